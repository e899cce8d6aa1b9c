"""The administrators' calendar override table, read into a WorkingCalendar."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .calendar import WorkingCalendar
from .models import CalendarOverride


def load_calendar(session: Session) -> WorkingCalendar:
    """A calendar that consults the override table first, then chinese_calendar."""
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_workday)).all()
    return WorkingCalendar({day: is_workday for day, is_workday in rows})


def set_override(session: Session, day: date, is_workday: bool, note: str, username: str, now: datetime) -> None:
    """Declare `day` a working or rest day (replacing any earlier ruling). The caller commits."""
    row = session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day)
        session.add(row)
    row.is_workday, row.note, row.updated_by, row.updated_at = is_workday, note, username, now
