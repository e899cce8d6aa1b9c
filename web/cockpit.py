"""驾驶舱: the board of a jurisdiction for 政法委管理者 and 中心主任 — what was received, concluded and
resolved in a period, what is open, overdue or 临期 now, by category, level, department, channel and
place, the risk board and the monthly trend. Every number links to the case list behind it
(web/cockpit_drill.py). A thin layer over engine/cockpit_board.py and engine/cockpit_trends.py.
"""
from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import NamedTuple

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from engine import jurisdictions
from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.cockpit_board import board
from engine.cockpit_metrics import (Period, QueryError, check_scope, default_scope, month_of, parse_period,
                                    quarter_of, week_of)
from engine.cockpit_risk import risk_scheme
from engine.cockpit_trends import monthly_trend
from engine.models import Jurisdiction

from . import cockpit_page as page
from .errors import error_page
from .extensions import db
from .services import services
from .session_user import current_actor, login_required

bp = Blueprint("cockpit", __name__)

COCKPIT_ROLES = frozenset({"manager", "director"})  # 政法委管理者, 中心主任
PERIOD_KINDS = {"month": "月", "week": "周", "quarter": "季度", "year": "年", "range": "自定义"}


class Selection(NamedTuple):
    """Who looks at which scope and period, as every cockpit page reads it from the request."""

    actor: Actor
    now: datetime
    scope: str
    period: Period


def cockpit_selection():
    """The Selection of this request — or the error page: 403 without the manager or director role or
    for a scope the user does not read, 400 for a period that cannot be read."""
    actor = current_actor()
    if not actor.roles & COCKPIT_ROLES:
        abort(403)
    now = services().clock.now()
    text = _period_text(request.args)
    try:
        period = parse_period(text, now)
    except QueryError:
        return error_page(400, f"统计周期“{text}”无法识别：请使用 2026-03（月）、2026-W10（周）、2026-Q1（季度）、"
                               "2026（年）或 2026-03-01..2026-03-15（自定义，起止日期都要填）。")
    scope = request.args.get("scope") or default_scope(actor)
    try:
        check_scope(actor, scope)
    except QueryError:
        return error_page(403, f"统计范围“{scope}”不在您的管辖范围内，无权查看。")
    return Selection(actor, now, scope, period)


def cockpit_view(view):
    """A cockpit page: logged in, then called with the request's Selection — or answered with the
    error page cockpit_selection gives."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        selection = cockpit_selection()
        if not isinstance(selection, Selection):
            return selection
        return view(selection, *args, **kwargs)

    return wrapped


@bp.get("/cockpit")
@cockpit_view
def index(selection: Selection):
    actor, now, scope, period = selection
    registry = services().registry
    category_names = {code: category.name for code, category in registry.categories.items()}
    result = board(db.session, actor, scope, period, now, category_names)
    trend = monthly_trend(db.session, actor, scope, period, now)
    chart = page.trend_chart(trend)
    return render_template(
        "cockpit.html", board=result, period=period, scope=scope, scope_name=place_names(db.session, [scope]).get(scope, scope), now=now,
        headline=page.headline(result), channel_rows=page.channel_rows(result),
        channel_metrics=page.CHANNEL_METRICS, columns=[page.NAMES[key] for key in page.BREAKDOWN_COLUMNS],
        breakdowns=[(title, page.group_rows(result, dimension, page.BREAKDOWN_COLUMNS))
                    for dimension, title in page.BREAKDOWNS],
        total_row=page.total_row(result, page.BREAKDOWN_COLUMNS),
        risk_rows=page.risk_rows(result, risk_scheme(db.session, registry, scope)),
        trend_rows=page.trend_rows(trend), trend_chart=chart, trend_months=chart["months"],
        scopes=scope_options(actor, scope), period_choices=period_choices(now), period_kinds=PERIOD_KINDS)


def _period_text(args) -> str:
    """The period key; a custom range comes as two dates (from, to) from the page's date inputs."""
    first, last = args.get("from", "").strip(), args.get("to", "").strip()
    if first or last:
        return f"{first}..{last}"  # one date missing: parse_period refuses it, naming the expected form
    return args.get("period", "")


def scope_options(actor: Actor, scope: str) -> list[tuple[str, str, int]]:
    """(code, name, depth): each jurisdiction of the actor and the places one level below it."""
    options: list[tuple[str, str, int]] = []
    for code in actor.jurisdictions():
        row = db.session.get(Jurisdiction, code)
        options.append((code, row.name if row else code, 0))
        options += [(child.code, child.name, 1) for child in jurisdictions.children(db.session, code)]
    if scope not in {code for code, _, _ in options}:
        options.append((scope, place_names(db.session, [scope]).get(scope, scope), 1))
    return options


def place_names(session, codes) -> dict[str, str]:
    return {row.code: row.name for row in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(codes)))}


def period_choices(now: datetime) -> dict[str, list[tuple[str, str]]]:
    """Recent periods of each kind for the selector, newest first: 24 months, 12 weeks, 8 quarters, 5 years."""
    today = now.astimezone(SHANGHAI).date()
    months, weeks, quarters = [month_of(today)], [week_of(today)], [quarter_of(today)]
    while len(months) < 24:
        months.append(months[-1].previous())
    while len(weeks) < 12:
        weeks.append(weeks[-1].previous())
    while len(quarters) < 8:
        quarters.append(quarters[-1].previous())
    years = [Period("year", today.replace(year=today.year - i, month=1, day=1),
                    today.replace(year=today.year - i, month=12, day=31)) for i in range(5)]
    return {kind: [(p.key, p.label) for p in periods]
            for kind, periods in (("month", months), ("week", weeks), ("quarter", quarters), ("year", years))}
