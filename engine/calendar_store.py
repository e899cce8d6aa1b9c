"""The administrators' calendar override table, read into a WorkingCalendar for one jurisdiction.

A ruling holds for its jurisdiction and everything below it; "" rules everywhere. Lookup walks the
jurisdiction's chain (engine/variant_lookup.py): the nearest ruling on a day wins, so a county's
local holiday beats the city's working day. Variants can ship rulings in variant.toml `[calendar]`;
at the same level the table (an administrator's latest word) wins over the file.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from .calendar import WorkingCalendar
from .models import CalendarOverride
from .variant_lookup import ancestors


def load_calendar(session: Session, jurisdiction_code: str = "",
                  file_rulings: Mapping[str, Mapping[date, bool]] | None = None) -> WorkingCalendar:
    """A calendar for `jurisdiction_code` that consults rulings (table and `file_rulings` by
    jurisdiction code) nearest first, then chinese_calendar."""
    chain = ancestors(session, jurisdiction_code)
    rows = session.execute(select(CalendarOverride.jurisdiction_code, CalendarOverride.day,
                                  CalendarOverride.is_workday)
                           .where(CalendarOverride.jurisdiction_code.in_(chain))).all()
    by_level: dict[str, dict[date, bool]] = {}
    for code, day, is_workday in rows:
        by_level.setdefault(code, {})[day] = is_workday
    overrides: dict[date, bool] = {}
    for code in reversed(chain):  # farthest first, so nearer levels overwrite
        overrides.update((file_rulings or {}).get(code, {}))
        overrides.update(by_level.get(code, {}))
    return WorkingCalendar(overrides)


def set_override(session: Session, day: date, is_workday: bool, note: str, username: str, now: datetime,
                 jurisdiction_code: str = "") -> None:
    """Declare `day` a working or rest day for `jurisdiction_code` and below ("" = everywhere),
    replacing any earlier ruling there. The caller commits."""
    row = session.get(CalendarOverride, (jurisdiction_code, day))
    if row is None:
        row = CalendarOverride(jurisdiction_code=jurisdiction_code, day=day)
        session.add(row)
    row.is_workday, row.note, row.updated_by, row.updated_at = is_workday, note, username, now
