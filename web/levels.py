"""层级与转办: 交办 a case down, 上报 it up, 申请转办 to another department, and 转办审批 for directors.

The case page includes `case_levels.html`, which asks `level_panel(case)` (a template global set
here) what the user may do. Every POST is CSRF-protected by the app; a case outside the user's
jurisdiction is 404, an action their role does not allow is 403 (engine.errors.Forbidden).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine import levels
from engine.errors import ConflictError
from engine.models import Jurisdiction
from engine.queries import get_case
from engine.transfers import DepartmentTransfers, TransferError, deadline_state

from .extensions import db
from .services import services
from .session_user import current_actor, current_user, login_required, role_required

bp = Blueprint("levels", __name__)

REFUSED = (levels.LevelError, TransferError, ConflictError)


def transfer_service() -> DepartmentTransfers:
    """Transfers with the limits configured per jurisdiction (TRANSFER_LIMITS: code → "3 工作日")."""
    return DepartmentTransfers(services().runtime, current_app.config.get("TRANSFER_LIMITS"))


@bp.app_context_processor
def inject_level_panel():
    return {"level_panel": level_panel}


def level_panel(case) -> dict:
    """What the case page shows and offers about where the case is handled and by which department."""
    if current_user() is None:
        return {}
    actor, session, now = current_actor(), db.session, services().clock.now()
    places = {row.code: row for row in session.query(Jurisdiction).filter(
        Jurisdiction.code.in_([case.jurisdiction_code, case.handling_jurisdiction_code]))}
    service = transfer_service()
    history = service.of_case(session, case)
    may_move = levels.may_move(actor, case)
    may_request = service.may_request(actor, case)
    return {
        "handling": _label(places.get(case.handling_jurisdiction_code), case.handling_jurisdiction_code),
        "registered": _label(places.get(case.jurisdiction_code), case.jurisdiction_code),
        "below": levels.centers_below(session, case) if may_move else [],
        "above": levels.center_above(session, case) if may_move else None,
        "may_move": may_move,
        "departments": service.departments(session, case) if may_request else [],
        "pending": next((row for row in history if row.transfer.state == "pending"), None),
        "may_decide": service.may_decide(actor, case),
        "history": history,
        "states": {row.transfer.id: deadline_state(row.transfer, now) for row in history},
    }


def _label(row, code: str) -> str:
    if row is None:
        return code
    return f"{row.center_name or row.name}（{row.code}）"


@bp.post("/cases/<int:case_id>/send-down")
@login_required
def send_down(case_id: int):
    actor = current_actor()
    get_case(db.session, actor, case_id)  # 404 outside the jurisdiction
    target = request.form.get("target", "").strip()
    reason = request.form.get("reason", "")
    name = _center_name(target)
    return _attempt(case_id, lambda: levels.send_down(db.session, services().runtime, case_id, target, reason, actor),
                    f"已交办至{name}，并出具转送交办单")


@bp.post("/cases/<int:case_id>/report-up")
@login_required
def report_up(case_id: int):
    actor = current_actor()
    case = get_case(db.session, actor, case_id)
    above = levels.center_above(db.session, case)
    reason = request.form.get("reason", "")
    return _attempt(case_id, lambda: levels.report_up(db.session, services().runtime, case_id, reason, actor),
                    f"已上报至{_center_name(above.code) if above else '上级中心'}，并出具转送交办单")


@bp.post("/cases/<int:case_id>/transfers")
@login_required
def request_transfer(case_id: int):
    actor = current_actor()
    get_case(db.session, actor, case_id)
    try:
        department_id = int(request.form.get("department_id", ""))
    except ValueError:
        department_id = -1
    reason = request.form.get("reason", "")
    return _attempt(case_id, lambda: transfer_service().request(db.session, case_id, department_id, reason, actor),
                    "已提交转办申请，待中心主任签批")


@bp.get("/transfers")
@role_required("director")
def pending():
    now = services().clock.now()
    rows = transfer_service().pending(db.session, current_actor())
    return render_template("transfers.html", rows=[(row, deadline_state(row.transfer, now)) for row in rows])


@bp.post("/transfers/<int:transfer_id>/decide")
@role_required("director")
def decide(transfer_id: int):
    approve = request.form.get("decision") == "approve"
    note = request.form.get("note", "")
    try:
        transfer_service().decide(db.session, transfer_id, approve, note, current_actor())
    except REFUSED as exc:
        db.session.rollback()
        flash(f"未能处理：{exc}", "error")
    else:
        flash("已批准转办，承办部门已变更并出具转送交办单" if approve else "已不予转办", "success")
    return redirect(url_for("levels.pending")), 303


def _attempt(case_id: int, action, success: str):
    """Run an engine command; refusals the user can act on come back as a message on the case page.
    Forbidden and NotFound propagate to the 403 / 404 pages."""
    try:
        action()
    except REFUSED as exc:
        db.session.rollback()
        flash(f"未能处理：{exc}", "error")
    else:
        flash(success, "success")
    return redirect(url_for("cases.detail", case_id=case_id) + "#levels"), 303


def _center_name(code: str) -> str:
    row = db.session.get(Jurisdiction, code) if code else None
    return (row.center_name or row.name) if row is not None else code
