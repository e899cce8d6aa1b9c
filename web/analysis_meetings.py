"""研判会 (村周研判、镇月研判): the recurring analysis meetings of engine/analysis_meetings.py.

The list shows the meetings of the places the user reads; a meeting page lists the cases gathered
and, for the place's analysts (研判员) while it is open, the form recording a 研判意见 per case and
the minutes. A meeting outside the user's jurisdiction is 404; completing without the role is 403.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import analysis_meetings as meetings
from engine.errors import ConflictError
from engine.jurisdictions import get as get_place

from .extensions import db
from .services import services
from .session_user import current_actor, login_required

bp = Blueprint("analysis_meetings", __name__)
STATES = {"open": "待研判", "completed": "已研判"}
EVERY = {"week": "每周", "month": "每月"}


@bp.get("/analysis-meetings")
@login_required
def index():
    actor = current_actor()
    rows = meetings.meetings_for(db.session, actor)[:200]
    places = {row.jurisdiction_code: _place_name(row.jurisdiction_code) for row in rows}
    return render_template("analysis_meetings.html", meetings=rows, places=places, states=STATES, every=EVERY,
                           may_complete=lambda m: meetings.may_complete(actor, m), now=services().clock.now())


@bp.get("/analysis-meetings/<int:meeting_id>")
@login_required
def detail(meeting_id: int):
    actor = current_actor()
    meeting = meetings.get_meeting(db.session, actor, meeting_id)
    return _render(meeting, actor, {}, "", [])


@bp.post("/analysis-meetings/<int:meeting_id>/complete")
@login_required
def complete(meeting_id: int):
    actor = current_actor()
    meeting = meetings.get_meeting(db.session, actor, meeting_id)  # 404 before anything else
    opinions = {str(case_id): request.form.get(f"opinion_{case_id}", "") for case_id in meeting.case_ids}
    minutes = request.form.get("minutes", "")
    try:
        meetings.complete_meeting(db.session, meeting.id, actor, opinions, minutes, services().clock.now())
    except meetings.MeetingError as exc:
        db.session.rollback()
        return _render(meeting, actor, opinions, minutes, [str(exc)]), 422
    except ConflictError as exc:
        db.session.rollback()
        flash(str(exc))
    return redirect(url_for("analysis_meetings.detail", meeting_id=meeting.id)), 303


def _render(meeting, actor, opinions: dict, minutes: str, errors: list[str]):
    cases = meetings.meeting_cases(db.session, meeting)
    return render_template("analysis_meeting.html", meeting=meeting, cases=cases, place=_place_name(meeting.jurisdiction_code),
                           states=STATES, editable=meetings.may_complete(actor, meeting), opinions=opinions,
                           minutes=minutes, errors=errors)


def _place_name(code: str) -> str:
    row = get_place(db.session, code)
    return row.center_name or row.name if row is not None else code
