"""Stopping and stretching a task's clock: pauses the law allows (鉴定, 听证) and approved extensions.

Both move the task's pending boundary timers by rewriting their stored due time (`event_value`, the
way SpiffWorkflow lets a due time move) and move the task's projected deadline with them.
While paused, the timers are parked at a far-future instant so no engine run can fire them; their
real due times are kept on the task row and restored, shifted, on resume.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .calendar import SHANGHAI, Duration, Unit, WorkingCalendar
from .errors import EngineError

PARKED = "9999-12-31T00:00:00+00:00"


class ClockError(EngineError):
    """A pause, resume or extension that the task's definition or state does not allow."""


def boundary_timers(user_task) -> list:
    """The waiting timer events attached to this user task instance."""
    parent = user_task.parent
    if parent is None:
        return []
    return [t for t in parent.children if t is not user_task and t.state == TaskState.WAITING
            and isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)]


def park_timers(user_task) -> dict[str, str]:
    """Stop every timer of the task; returns their due times to restore later."""
    kept = {}
    for timer in boundary_timers(user_task):
        value = timer.internal_data.get("event_value")
        if isinstance(value, str):
            kept[str(timer.id)] = value
            timer.internal_data["event_value"] = PARKED
    return kept


def restore_timers(user_task, kept: dict[str, str], paused: "Pause", calendar: WorkingCalendar) -> None:
    """Put the parked timers back, each moved later by the paused time (see shift_due)."""
    for timer in boundary_timers(user_task):
        original = kept.get(str(timer.id))
        if original is not None:
            due = TimerEventDefinition.get_datetime(original)
            timer.internal_data["event_value"] = shift_due(due, paused, calendar).isoformat()


def extend_timers(user_task, extension: Duration, calendar: WorkingCalendar) -> None:
    """Move every timer of the task later by the extension, counted from its current due time."""
    for timer in boundary_timers(user_task):
        value = timer.internal_data.get("event_value")
        if isinstance(value, str) and value != PARKED:
            due = TimerEventDefinition.get_datetime(value)
            timer.internal_data["event_value"] = extended_due(due, extension, calendar).isoformat()


@dataclass(frozen=True)
class Pause:
    """A stretch during which a task's clock did not run, and the unit its limit counts in."""

    start: datetime
    end: datetime
    unit: Unit


def shift_due(due: datetime, paused: Pause, calendar: WorkingCalendar) -> datetime:
    """`due` moved later by the paused time, counted in the limit's own unit.

    Hours and minutes move by the exact paused time. A 日 limit moves by the calendar days that
    passed and a 工作日 limit by the working days that passed (the days after the pause began, up to
    and including the day it ended); either then ends at the end of a working day, as a deadline that
    fell on a rest day would.
    """
    if paused.unit in (Unit.HOUR, Unit.MINUTE):
        return due + (paused.end - paused.start)
    first, last = paused.start.astimezone(SHANGHAI).date(), paused.end.astimezone(SHANGHAI).date()
    if paused.unit == Unit.WORKDAY:
        lost = sum(1 for offset in range(1, (last - first).days + 1)
                   if calendar.is_workday(first + timedelta(days=offset)))
        moved_day = due.astimezone(SHANGHAI).date()
        while lost:
            moved_day += timedelta(days=1)
            lost -= calendar.is_workday(moved_day)
    else:
        moved_day = (due + (paused.end - paused.start)).astimezone(SHANGHAI).date()
    while not calendar.is_workday(moved_day):
        moved_day += timedelta(days=1)
    return datetime.combine(moved_day, time(23, 59, 59), SHANGHAI).astimezone(due.tzinfo)


def extended_due(due: datetime, extension: Duration, calendar: WorkingCalendar) -> datetime:
    """An extension counts in its own unit from the deadline it extends."""
    return calendar.add(due, extension).due
