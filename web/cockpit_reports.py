"""周梳理, 月报告 and the 台账 export for 政法委管理者 and 中心主任: a printable page or an Excel workbook.

Scope and period are read exactly as the board and its case lists read them (CaseQuery.from_params):
the scope defaults to the user's widest jurisdiction and one outside it is refused. The content comes
from engine/cockpit_reports.py and engine/cockpit_ledger.py; this module only chooses the format.
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, render_template, request, send_file

from engine.calendar import SHANGHAI
from engine.closed_within import closed_within_rule
from engine.cockpit_ledger import LEDGER_LIMIT, LedgerTooLarge, ledger_rows, ledger_size
from engine.cockpit_metrics import CaseQuery, QueryError, check_scope, default_scope, week_of
from engine.cockpit_reports import DEFINITIONS, monthly_report, weekly_report

from . import report_workbook
from .cockpit import COCKPIT_ROLES
from .cockpit_drill import drill_down
from .errors import error_page
from .extensions import db
from .services import services
from .session_user import current_actor, current_user, login_required

bp = Blueprint("cockpit_reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD_FORMS = "请使用 2026-03（月）、2026-W10（周）、2026-Q1（季度）、2026（年）或 2026-03-01..2026-03-15（自定义）。"


@bp.get("/cockpit/reports/monthly")
@login_required
def monthly():
    return _report("monthly")


@bp.get("/cockpit/reports/weekly")
@login_required
def weekly():
    return _report("weekly")


def _report(kind: str):
    actor = _manager()
    now = services().clock.now()
    params = request.args.to_dict()
    if kind == "weekly" and not params.get("period"):
        params["period"] = week_of(now.astimezone(SHANGHAI).date()).key  # 周梳理 is weekly: this week
    query = _query(params, actor, now)
    if not isinstance(query, CaseQuery):
        return query
    build = monthly_report if kind == "monthly" else weekly_report
    rule = closed_within_rule(db.session, services().registry.variants, services().runtime.calendar_loader,
                              query.scope)  # 九原区: 10个工作日内办结率
    report = build(db.session, actor, query.scope, query.period, now, _category_names(), rule)
    author = current_user().display_name or current_user().username
    if request.args.get("format") == "xlsx":
        workbook = report_workbook.monthly_workbook if kind == "monthly" else report_workbook.weekly_workbook
        name = "月报告" if kind == "monthly" else "周梳理"
        return _xlsx(workbook(report, author), f"{name}_{query.scope}_{query.period.key}.xlsx")
    return render_template(f"cockpit_report_{kind}.html", report=report, author=author, definitions=DEFINITIONS,
                           remaining_text=report_workbook.remaining_text)


@bp.get("/cockpit/ledger.xlsx")
@login_required
def ledger():
    """台账: the cases the case list shows for these parameters (no metric: those received in the period)."""
    actor = _manager()
    now = services().clock.now()
    query = _query(request.args, actor, now)
    if not isinstance(query, CaseQuery):
        return query
    try:
        query.conditions(actor, now)  # an unknown metric or filter is refused before anything is written
        ledger_size(db.session, actor, query, now)
    except LedgerTooLarge as exc:
        return error_page(400, f"符合条件的案件有 {exc.total:,} 件，台账一次最多导出 {LEDGER_LIMIT:,} 件："
                               "请缩短统计周期、缩小统计范围或增加筛选条件后再导出。")
    except QueryError as exc:
        return error_page(400, f"统计条件无法识别：{exc}")
    names = _category_names()
    title = _ledger_title(actor, query, now, names)
    rows = ledger_rows(db.session, actor, query, now, names)
    return _xlsx(report_workbook.ledger_workbook(rows, title), f"台账_{query.scope}_{query.period.key}.xlsx")


def _manager():
    actor = current_actor()
    if not actor.roles & COCKPIT_ROLES:
        abort(403)
    return actor


def _query(params, actor, now):
    """The CaseQuery of `params`, or the error page (403 scope, 400 period or filter) saying what is wrong."""
    scope = params.get("scope") or default_scope(actor)
    try:
        check_scope(actor, scope)
    except QueryError:
        return error_page(403, f"统计范围“{scope}”不在您的管辖范围内，无权查看。")
    try:
        return CaseQuery.from_params(params, actor, now)
    except QueryError as exc:
        text = params.get("period", "")
        if text and str(exc).startswith("period"):
            return error_page(400, f"统计周期“{text}”无法识别：{PERIOD_FORMS}")
        return error_page(400, f"统计条件无法识别：{exc}")


def _ledger_title(actor, query: CaseQuery, now, names) -> str:
    """What the ledger lists, in the words of the case list's banner."""
    drill = drill_down(actor, query.params(), now, names, limit=0)
    filters = "".join(f" · {name}：{value}" for name, value in drill.filters)
    return f"案件台账 · {drill.scope_name} · {drill.metric_name} · {drill.period_label}{filters}（共 {drill.total} 件）"


def _category_names() -> dict[str, str]:
    return {code: category.name for code, category in services().registry.categories.items()}


def _xlsx(content: bytes, filename: str):
    # send_file writes filename* (RFC 5987, UTF-8) for the Chinese name and an ASCII fallback.
    return send_file(BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=filename)
