"""Working-day calendar and deadline arithmetic (DOMAIN.md §5, "Counting time").

A time limit is a :class:`Duration` — an amount and a unit (日, 工作日, 小时, 分钟) — and
:meth:`WorkingCalendar.add` turns a start moment into a :class:`Deadline`. Day units are counted
on Asia/Shanghai local dates whatever time zone the start is given in, because the holiday notice
of the State Council is written in Beijing dates.

Which days are working days comes from, in order:

1. the override table edited by administrators (a new 放假调休 notice, a local exception);
2. the ``chinesecalendar`` package, which knows a fixed range of years;
3. Monday–Friday, for a year nobody knows yet. Such a guess marks the deadline *provisional*
   so that it can be recomputed once the override table (or a newer package) covers it.

This module knows nothing of storage or the web layer.
"""

from __future__ import annotations

import enum
import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar

from engine.errors import EngineError

__all__ = ["Unit", "Duration", "DurationError", "Deadline", "WorkingCalendar", "SHANGHAI"]

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A day-unit limit runs to the end of its last day, not to the moment of the start time.
_END_OF_DAY = time(23, 59, 59)


class Unit(str, enum.Enum):
    """Unit of a time limit; the value is the Chinese word used in process definitions."""

    DAY = "日"
    WORKDAY = "工作日"
    HOUR = "小时"
    MINUTE = "分钟"


class DurationError(EngineError, ValueError):
    """A time limit that cannot be understood (bad text, amount or unit).

    A ValueError for callers that validate input generically, and an EngineError so the web
    layer reports it like every other engine error.
    """


_ACCEPTED = "an amount of whole units like '30 日', '15 工作日', '72 小时' or '15 分钟'"

# ASCII digits only: a sign, a decimal point or an English unit is a mistake worth reporting,
# not something to guess at. Longest unit first so that 工作日 is not read as 日.
_DURATION_RE = re.compile(r"\s*([0-9]+)\s*(工作日|日|小时|分钟)\s*", re.ASCII)


@dataclass(frozen=True)
class Duration:
    """A time limit: a non-negative whole ``amount`` of ``unit``."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        # bool is an int subclass; Duration(True, ...) is always a bug upstream.
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise DurationError(
                f"duration amount {self.amount!r} is not a whole number; expected an int >= 0"
            )
        if self.amount < 0:
            raise DurationError(f"duration amount {self.amount} is negative; expected an int >= 0")
        if not isinstance(self.unit, Unit):
            try:
                # Lets stored values such as "日" come back as Duration(30, "日").
                object.__setattr__(self, "unit", Unit(self.unit))
            except ValueError:
                units = ", ".join(u.value for u in Unit)
                raise DurationError(
                    f"duration unit {self.unit!r} is unknown; expected one of {units}"
                ) from None

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read a time limit as written in a process definition, e.g. ``"30 日"`` or ``"15工作日"``.

        Whitespace around and between the amount and the unit is optional. Raises
        :class:`DurationError` naming the offending text and the accepted forms.
        """
        if not isinstance(text, str):
            raise DurationError(f"duration {text!r} is not text; expected {_ACCEPTED}")
        match = _DURATION_RE.fullmatch(text)
        if match is None:
            raise DurationError(f"duration {text!r} is not understood; expected {_ACCEPTED}")
        return cls(int(match.group(1)), Unit(match.group(2)))

    def __str__(self) -> str:
        """The canonical written form, e.g. ``"30 日"``; :meth:`parse` reads it back."""
        return f"{self.amount} {self.unit.value}"


@dataclass(frozen=True)
class Deadline:
    """When a time limit runs out.

    ``due`` is timezone-aware UTC. ``provisional`` is True when a day that decided it lies in a
    year that neither the override table nor ``chinesecalendar`` knows, so weekdays were assumed;
    such a deadline must be recomputed once the holiday data arrives.
    """

    due: datetime
    provisional: bool


@functools.lru_cache(maxsize=8192)
def _library_is_workday(day: date) -> bool | None:
    """``chinesecalendar``'s verdict for ``day``, or None when it does not know the year."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return None


@functools.lru_cache(maxsize=None)
def _warn_unknown_year(year: int) -> None:
    # Cached so the log says it once per year, not once per task created in December.
    log.warning(
        "no holiday data for %d: assuming Monday-Friday working days and marking deadlines "
        "provisional until the override table or chinesecalendar covers that year",
        year,
    )


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} {moment.isoformat()} has no time zone; pass an aware datetime, "
            "e.g. datetime(..., tzinfo=SHANGHAI)"
        )


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=SHANGHAI).astimezone(timezone.utc)


class WorkingCalendar:
    """Decides working days and adds time limits to moments.

    ``overrides`` maps a date to True (working day) or False (rest day). It is consulted before
    the library, and is copied: build a new calendar after administrators edit the table.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        """Create a calendar, with an optional override table consulted before the library."""
        table: dict[date, bool] = {}
        for day, working in (overrides or {}).items():
            # datetime is a date subclass but never equals a date, so it would silently not match.
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(f"override key {day!r} must be a datetime.date")
            if not isinstance(working, bool):
                raise TypeError(
                    f"override for {day.isoformat()} is {working!r}; expected True (working day) "
                    "or False (rest day)"
                )
            table[day] = working
        self._overrides = table

    def _lookup(self, day: date) -> tuple[bool, bool]:
        """Return ``(is_workday, known)`` for ``day``."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(
                f"expected a datetime.date, got {day!r}; for a moment use "
                ".astimezone(SHANGHAI).date()"
            )
        override = self._overrides.get(day)
        if override is not None:
            return override, True
        verdict = _library_is_workday(day)
        if verdict is not None:
            return verdict, True
        return day.weekday() < 5, False

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day: override table, then chinesecalendar, then Mon–Fri.

        Make-up working days (调休, e.g. a Saturday before 春节) are working days. For a year
        nobody knows the Monday–Friday guess is returned; use :meth:`is_known` to tell.
        """
        return self._lookup(day)[0]

    def is_known(self, day: date) -> bool:
        """Whether ``day`` is in the override table or in a year chinesecalendar covers."""
        return self._lookup(day)[1]

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether every Shanghai date from ``start`` to ``end`` (both included) is known.

        Raises ValueError for a naive datetime or when ``end`` is before ``start``.
        """
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        day = start.astimezone(SHANGHAI).date()
        last = end.astimezone(SHANGHAI).date()
        while day <= last:
            if not self.is_known(day):
                return False
            day += timedelta(days=1)
        return True

    def add(self, start: datetime, duration: Duration) -> Deadline:
        """The deadline of ``duration`` started at ``start`` (an aware datetime).

        - 分钟 / 小时: elapsed time from ``start``; never provisional.
        - 日: the start day is not counted; the period ends ``amount`` days after the start date,
          rolled forward to the next working day if that is a rest day. Holidays inside the
          period are not deducted.
        - 工作日: the start day is not counted; ``amount`` working days after the start date.

        Day units are due at 23:59:59 Asia/Shanghai of their last day. ``due`` is aware UTC.
        """
        _require_aware(start, "start")
        if not isinstance(duration, Duration):
            raise TypeError(f"duration must be a Duration, got {duration!r}")
        # Arithmetic in UTC: adding a timedelta to a zoned datetime adds wall-clock time,
        # which is wrong across a DST change in the caller's zone.
        start_utc = start.astimezone(timezone.utc)

        if duration.unit is Unit.MINUTE:
            return Deadline(start_utc + timedelta(minutes=duration.amount), provisional=False)
        if duration.unit is Unit.HOUR:
            return Deadline(start_utc + timedelta(hours=duration.amount), provisional=False)

        day = start.astimezone(SHANGHAI).date()
        known_throughout = True
        if duration.unit is Unit.DAY:
            day += timedelta(days=duration.amount)
            while True:
                working, known = self._lookup(day)
                known_throughout &= known
                if working:
                    break
                day += timedelta(days=1)
        else:
            remaining = duration.amount
            while remaining:
                day += timedelta(days=1)
                working, known = self._lookup(day)
                known_throughout &= known
                if working:
                    remaining -= 1
        return Deadline(_end_of_day(day), provisional=not known_throughout)

    def warning(self, start: datetime, duration: Duration, share: float) -> Deadline:
        """When ``share`` (0 < share < 1) of the time from ``start`` to the deadline has elapsed.

        This is the 临期 moment. It is measured in elapsed time, not working time, so it can
        fall on a rest day. Provisional exactly when the underlying deadline is.
        """
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
            raise ValueError(f"warning share {share!r} must be a number strictly between 0 and 1")
        deadline = self.add(start, duration)
        start_utc = start.astimezone(timezone.utc)
        return Deadline(start_utc + (deadline.due - start_utc) * share, deadline.provisional)
