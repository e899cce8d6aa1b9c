"""Pausing a task's clock, resuming it, and extensions: requested by the handler, decided by the director."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.errors import ConflictError, Forbidden
from engine.queries import get_task, pending_extensions
from engine.task_clock import ClockError

from .extensions import db
from .services import services
from .session_user import current_actor, login_required, role_required

bp = Blueprint("clock", __name__)


@bp.post("/tasks/<task_id>/pause")
@login_required
def pause(task_id: str):
    actor = current_actor()
    get_task(db.session, actor, task_id)  # 404 outside the jurisdiction
    reason = request.form.get("reason", "").strip()
    return _attempt(task_id, lambda: services().runtime.pause_clock(db.session, task_id, reason, actor),
                    f"已暂停计时（{reason}）")


@bp.post("/tasks/<task_id>/resume")
@login_required
def resume(task_id: str):
    actor = current_actor()
    get_task(db.session, actor, task_id)
    return _attempt(task_id, lambda: services().runtime.resume_clock(db.session, task_id, actor), "已恢复计时，期限已顺延")


@bp.post("/tasks/<task_id>/extension")
@login_required
def request_extension(task_id: str):
    actor = current_actor()
    get_task(db.session, actor, task_id)
    amount = request.form.get("amount", "").strip()
    reason = request.form.get("reason", "").strip()
    return _attempt(task_id, lambda: services().runtime.request_extension(db.session, task_id, amount, reason, actor),
                    f"已提交延期申请（{amount}），待中心主任审批")


@bp.get("/extensions")
@role_required("director")
def extensions():
    rows = pending_extensions(db.session, current_actor())
    return render_template("extensions.html", rows=rows)


@bp.post("/extensions/<int:request_id>/decide")
@role_required("director")
def decide(request_id: int):
    approve = request.form.get("decision") == "approve"
    note = request.form.get("note", "").strip()
    try:
        services().runtime.decide_extension(db.session, request_id, approve, note, current_actor())
    except (ClockError, ConflictError) as exc:
        db.session.rollback()
        flash(f"未能处理：{exc}", "error")
        return redirect(url_for("clock.extensions")), 303
    flash("已批准延期，相关期限已顺延并生成延期告知书" if approve else "已驳回延期申请", "success")
    return redirect(url_for("clock.extensions")), 303


def _attempt(task_id: str, action, success: str):
    try:
        action()
    except Forbidden:
        db.session.rollback()
        flash("您没有办理该任务的角色", "error")
    except (ClockError, ConflictError) as exc:
        db.session.rollback()
        flash(f"未能处理：{exc}", "error")
    else:
        flash(success, "success")
    return redirect(url_for("tasks.task", task_id=task_id)), 303
