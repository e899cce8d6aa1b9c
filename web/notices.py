"""通知 (站内通知): the current user's 日提醒 and 周督办 (engine/digests.py), newest first, and marking one read.

A notice is its recipient's alone: anyone else asking for it gets 404, as for an object of another
jurisdiction. The items link to the task and the case; the task and case pages check access again.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, url_for
from sqlalchemy import func, select

from engine.digests import KIND_NAMES
from engine.models import Notice

from .extensions import db
from .services import services
from .session_user import current_user, login_required

bp = Blueprint("notices", __name__)

PAGE = 100  # notices listed; older ones stay in the table


@bp.app_context_processor
def inject_unread_notices():
    return {"unread_notices": unread_count}


def unread_count() -> int:
    """The current user's unread notices, for the count beside the nav link."""
    user = current_user()
    if user is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.recipient == user.username, Notice.read_at.is_(None))) or 0


@bp.get("/notices")
@login_required
def index():
    notices = db.session.scalars(select(Notice).where(Notice.recipient == current_user().username)
                                 .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(PAGE)).all()
    return render_template("notices.html", notices=notices, kinds=KIND_NAMES, due=_due)


@bp.post("/notices/<int:notice_id>/read")
@login_required
def mark_read(notice_id: int):
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.recipient != current_user().username:
        abort(404)
    if notice.read_at is None:
        notice.read_at = services().clock.now()
        db.session.commit()
    return redirect(url_for("notices.index", _anchor=f"notice-{notice_id}")), 303


def _due(item: dict) -> datetime | None:
    value = item.get("due_at")
    return datetime.fromisoformat(value) if value else None
