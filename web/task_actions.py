"""认领, 退回队列, 改派 and 交B岗办理: the task state machine's transitions as POST routes.

Each route asks engine.assignment, which decides: a task outside the user's reading scope does
not exist (404), a transition the machine refuses is 403, and losing a race to another user is 409
with the task page as it now stands.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from engine.assignment import AssignmentError
from engine.errors import ConflictError, Forbidden

from .assignment_view import names_of
from .errors import error_page
from .extensions import db
from .services import services
from .session_user import current_actor, login_required
from .tasks import task_page

bp = Blueprint("task_actions", __name__)

DONE = {
    "claim": "已认领：{task}",
    "unclaim": "已退回队列：{task}",
    "reassign": "已改派给{to}：{task}",
    "delegate": "已交B岗{to}办理：{task}",
}
REFUSED = {
    "claim": "不能认领此任务：它不在您的办理队列中，或已有人认领。",
    "unclaim": "不能退回此任务：只有认领人，或该中心及上级的中心主任、政法委管理者可以退回队列。",
    "reassign": "不能改派此任务：改派需由该中心或上级的中心主任、政法委管理者操作。",
    "delegate": "不能交B岗办理：请先认领此任务；如尚未设置AB岗（B岗），请联系系统管理员。",
}
INELIGIBLE = {
    "reassign": "未能改派：所选人员不能办理此任务（角色或所在中心、部门不符，或账号已停用）。",
    "delegate": "未能转交：您的B岗不能办理此任务（角色或所在中心、部门不符，或账号已停用），请联系系统管理员调整AB岗设置。",
}
CONFLICT = "操作未完成：该任务刚刚已被他人认领、改派或办理，请查看当前状态后再操作。"


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    return _transition(task_id, "claim", lambda actor: services().assignments.claim(db.session, task_id, actor))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    return _transition(task_id, "unclaim", lambda actor: services().assignments.unclaim(db.session, task_id, actor))


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str):
    to_username = request.form.get("to_username", "").strip()
    reason = request.form.get("reason", "").strip()[:200]
    return _transition(task_id, "reassign", lambda actor: services().assignments.reassign(
        db.session, task_id, to_username, actor, reason))


@bp.post("/tasks/<task_id>/delegate")
@login_required
def delegate(task_id: str):
    return _transition(task_id, "delegate", lambda actor: services().assignments.delegate(db.session, task_id, actor))


def _transition(task_id: str, action: str, run):
    """Run one transition and answer as the module docstring says; NotFound propagates (404)."""
    try:
        row = run(current_actor())
    except Forbidden:
        db.session.rollback()
        return error_page(403, REFUSED[action])
    except ConflictError:  # also TaskNotReady: completed or withdrawn meanwhile
        db.session.rollback()
        flash(CONFLICT, "error")
        return _task_page(task_id, 409)
    except AssignmentError:
        db.session.rollback()
        flash(INELIGIBLE[action], "error")
        return _task_page(task_id, 422)
    flash(DONE[action].format(task=row.name, to=_display_name(row.claimed_by)), "success")
    return redirect(_back(task_id)), 303


def _task_page(task_id: str, status: int):
    return task_page(task_id), status


def _back(task_id: str) -> str:
    """Back where the button was: the inbox, or the task page."""
    if request.form.get("back") == "inbox":
        return url_for("tasks.inbox", view=request.form.get("view") or None)
    return url_for("tasks.task", task_id=task_id)


def _display_name(username: str | None) -> str:
    return names_of(db.session, [username]).get(username, "") if username else ""
