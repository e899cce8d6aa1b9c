"""Recurring 研判 meetings (村周研判、镇月研判): a general capability, switched on per locality with
`analysis_meetings` in variant.toml (a list of {level, every}; engine/locality_settings.py).

At the start of each week (Monday) or month (the 1st), Beijing time, every place at the named level
under a variant that switches it on gets ONE meeting: the open cases registered or handled in the
place's subtree at that moment, as a 研判 task for the place's analysts (role `analyst` granted at
exactly that place, as for a case task), due at the end of the period's second working day on the
place's calendar. Completing it — once — records a 研判意见 per case in that case's timeline (event
`analysis_opinion`) and the minutes on the meeting.

The meeting is a table of its own (`analysis_meeting`), not a workflow: it spans many cases, none of
which it may lock or move. `run_due` is registered in engine/locality_jobs.py; the unique index on
(place, every, period start) makes it idempotent under any number of runs, even concurrent ones.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Callable

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .actors import Actor, jurisdiction_prefix
from .calendar import SHANGHAI, Duration
from .errors import ConflictError, EngineError, Forbidden, NotFound
from .events import EventLog
from .locality_settings import locality_setting, places_with
from .models import AnalysisMeeting, Case, Jurisdiction
from .variant_lookup import ancestors

SETTING = "analysis_meetings"
ROLE = "analyst"
DUE_AFTER = Duration.parse("2 工作日")  # from the period's start: the end of its second working day
OPINION_KIND = "analysis_opinion"
MEETING_NAMES = {("village", "week"): "村周研判", ("township", "month"): "镇月研判",
                 ("village", "month"): "村月研判", ("township", "week"): "镇周研判",
                 ("county", "week"): "县周研判", ("county", "month"): "县月研判"}
PERIOD_NAMES = {"week": "周", "month": "月"}
MAX_OPINION = 2000


class MeetingError(EngineError):
    """A meeting that cannot be completed as submitted (the message says what is missing)."""


def period_start(now: datetime, every: str) -> date:
    """The Monday (week) or the 1st (month) of the Beijing period containing `now`."""
    today = now.astimezone(SHANGHAI).date()
    if every == "week":
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def meeting_places(session: Session, variants) -> list[tuple[Jurisdiction, dict[str, str]]]:
    """(place, {level, every}) for every place that holds a meeting, by the nearest setting on its chain."""
    result = []
    seen: set[str] = set()
    for code in places_with(variants, SETTING):
        rows = session.scalars(select(Jurisdiction).where(
            or_(Jurisdiction.code == code, Jurisdiction.code.startswith(jurisdiction_prefix(code), autoescape=True)),
            Jurisdiction.center_name.is_not(None)).order_by(Jurisdiction.code))
        for row in rows:
            if row.code in seen:
                continue
            seen.add(row.code)
            # Nearest wins: a township below a county with its own setting follows its own.
            for meeting in locality_setting(variants, ancestors(session, row.code), SETTING, ()):
                if meeting["level"] == row.level:
                    result.append((row, meeting))
    return result


def open_cases_of(session: Session, code: str) -> list[Case]:
    """Open cases registered or handled in `code`'s subtree, oldest first."""
    prefix = jurisdiction_prefix(code)

    def under(column):
        return or_(column == code, column.startswith(prefix, autoescape=True))

    return list(session.scalars(select(Case).where(
        Case.status == "open", or_(under(Case.jurisdiction_code), under(Case.handling_jurisdiction_code)))
        .order_by(Case.id)))


def run_due(session_factory: Callable[[], Session], runtime) -> int:
    """Make this period's meeting for every place that holds one and has none yet; returns how many."""
    now = runtime.clock.now()
    made = 0
    with session_factory() as session:
        places = meeting_places(session, runtime.registry.variants)
    for place, meeting in places:
        with session_factory() as session:
            if _make(session, runtime, place, meeting, now) is not None:
                made += 1
    return made


def _make(session: Session, runtime, place: Jurisdiction, meeting: dict[str, str], now: datetime):
    start = period_start(now, meeting["every"])
    exists = session.scalars(select(AnalysisMeeting.id).where(
        AnalysisMeeting.jurisdiction_code == place.code, AnalysisMeeting.every == meeting["every"],
        AnalysisMeeting.period_start == start)).first()
    if exists is not None:
        return None
    cases = open_cases_of(session, place.code)
    begins = datetime.combine(start, time(0, 0), tzinfo=SHANGHAI)
    due_at = runtime.calendar_loader(session, place.code).add(begins, DUE_AFTER).due
    name = MEETING_NAMES[(meeting["level"], meeting["every"])]
    label = f"{start.isoformat()} 起" if meeting["every"] == "week" else f"{start.year}年{start.month}月"
    row = AnalysisMeeting(jurisdiction_code=place.code, level=meeting["level"], every=meeting["every"],
                          period_start=start, title=f"{place.name}{name}（{label}）", case_ids=[c.id for c in cases],
                          created_at=now, due_at=due_at, state="open", opinions={})
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # another scheduler made it first
        session.rollback()
        return None
    for case in cases:
        EventLog(session, case.id, now).add("system", "analysis_meeting_listed", f"列入{row.title}",
                                            data={"meeting_id": row.id})
    session.commit()
    return row


# -- the task side ---------------------------------------------------------------------------------

def may_read(actor: Actor, meeting: AnalysisMeeting) -> bool:
    return actor.covers(meeting.jurisdiction_code)


def may_complete(actor: Actor, meeting: AnalysisMeeting) -> bool:
    """The place's analysts, as for a case task offered there (a director above may too)."""
    return meeting.state == "open" and (actor.can_take(ROLE, meeting.jurisdiction_code)
                                        or actor.supervises(meeting.jurisdiction_code))


def meetings_for(session: Session, actor: Actor, *, state: str | None = None) -> list[AnalysisMeeting]:
    """Meetings of the places the actor reads, open ones first, then the newest."""
    conditions = [or_(AnalysisMeeting.jurisdiction_code == code,
                      AnalysisMeeting.jurisdiction_code.startswith(jurisdiction_prefix(code), autoescape=True))
                  for code in actor.jurisdictions()]
    if not conditions:
        return []
    query = select(AnalysisMeeting).where(or_(*conditions))
    if state:
        query = query.where(AnalysisMeeting.state == state)
    rows = session.scalars(query.order_by(AnalysisMeeting.due_at.desc(), AnalysisMeeting.id.desc()))
    return sorted(rows, key=lambda m: m.state != "open")


def get_meeting(session: Session, actor: Actor, meeting_id: int) -> AnalysisMeeting:
    """The meeting if the actor may read it; NotFound otherwise (ids cannot be probed)."""
    meeting = session.get(AnalysisMeeting, meeting_id)
    if meeting is None or not may_read(actor, meeting):
        raise NotFound(f"analysis meeting {meeting_id} does not exist")
    return meeting


def meeting_cases(session: Session, meeting: AnalysisMeeting) -> list[Case]:
    ids = [int(i) for i in meeting.case_ids]
    return list(session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id))) if ids else []


def complete_meeting(session: Session, meeting_id: int, actor: Actor, opinions: dict[Any, str], minutes: str,
                     now: datetime) -> AnalysisMeeting:
    """Record the meeting's 研判意见 (one per gathered case, into each case's timeline) and its minutes.

    Once: a second completion (or a concurrent one) raises ConflictError and writes nothing.
    """
    meeting = get_meeting(session, actor, meeting_id)
    if meeting.state != "open":
        raise ConflictError(f"{meeting.title} was already completed by {meeting.completed_by}")
    if not may_complete(actor, meeting):
        raise Forbidden(f"{meeting.title} is for the analysts (研判员) of {meeting.jurisdiction_code}; "
                        f"{actor.username} may not complete it")
    minutes = (minutes or "").strip()
    if not minutes:
        raise MeetingError("会议纪要 (minutes) is required")
    given = {str(key): (value or "").strip() for key, value in opinions.items()}
    recorded: dict[str, str] = {}
    for case_id in meeting.case_ids:
        opinion = given.get(str(case_id), "")
        if not opinion:
            raise MeetingError(f"研判意见 for case {case_id} is missing")
        if len(opinion) > MAX_OPINION:
            raise MeetingError(f"研判意见 for case {case_id} is longer than {MAX_OPINION} characters")
        recorded[str(case_id)] = opinion
    done = session.execute(update(AnalysisMeeting).where(AnalysisMeeting.id == meeting.id,
                                                         AnalysisMeeting.state == "open")
                           .values(state="completed", completed_at=now, completed_by=actor.username,
                                   minutes=minutes, opinions=recorded)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.rollback()
        raise ConflictError(f"{meeting.title} was completed by someone else; reload")
    for case_id, opinion in recorded.items():
        EventLog(session, int(case_id), now).add(actor.username, OPINION_KIND, f"{meeting.title}：{opinion}",
                                                 data={"meeting_id": meeting.id, "opinion": opinion})
    session.commit()
    session.refresh(meeting)
    return meeting
