"""Deadline helpers for timer expressions, and recomputing a timer's due time.

Timer expressions call `warning_of("mediate")`, `deadline_of("mediate")`, `escalation_of("mediate")`
or `deadline(30, "日")`. They count from the instant of the engine run in which the timer starts,
on the working-day calendar, and return aware ISO strings as SpiffWorkflow requires.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from .bundle import ProcessBundle, TimerMeta
from .calendar import Deadline, Duration, Unit, WorkingCalendar


def deadline_helpers(bundle: ProcessBundle, calendar: WorkingCalendar, now: datetime) -> dict[str, Callable]:
    """The functions timer expressions may call during one engine run at `now`."""

    def meta(task_id: str):
        try:
            return bundle.tasks[task_id]
        except KeyError:
            raise ValueError(f"no user task {task_id!r} with a deadline in this process") from None

    def warning_of(task_id: str) -> str:
        task = meta(task_id)
        return calendar.warning(now, task.deadline, task.warn_share).due.isoformat()

    def deadline_of(task_id: str) -> str:
        return calendar.add(now, meta(task_id).deadline).due.isoformat()

    def escalation_of(task_id: str) -> str:
        task = meta(task_id)
        if task.escalate_after is None:
            raise ValueError(f"user task {task_id!r} has no escalate_after property")
        return calendar.add(now, task.escalate_after).due.isoformat()

    def deadline(amount, unit: str) -> str:
        return calendar.add(now, Duration(int(amount), Unit(unit))).due.isoformat()

    return {"warning_of": warning_of, "deadline_of": deadline_of, "escalation_of": escalation_of, "deadline": deadline}


def timer_deadline(bundle: ProcessBundle, timer: TimerMeta, calendar: WorkingCalendar,
                   started_at: datetime) -> Deadline | None:
    """Recompute what a calendar-based timer evaluates to when started at `started_at`.

    None for timers that do not count on the calendar (ISO literals), whose due time never changes.
    """
    if timer.helper == "deadline" and timer.duration is not None:
        return calendar.add(started_at, timer.duration)
    task = bundle.tasks.get(timer.target or "")
    if task is None:
        return None
    if timer.helper == "warning_of":
        return calendar.warning(started_at, task.deadline, task.warn_share)
    if timer.helper == "deadline_of":
        return calendar.add(started_at, task.deadline)
    if timer.helper == "escalation_of" and task.escalate_after is not None:
        return calendar.add(started_at, task.escalate_after)
    return None
