"""Make SpiffWorkflow's timers read our injected clock.

SpiffWorkflow 3.2 decides whether a timer is due by calling `datetime.now(timezone.utc)` inside
`SpiffWorkflow.bpmn.specs.event_definitions.timer`. There is no hook for a clock, so we give that
module a `datetime` whose `now()` returns the instant of the engine run in progress (a context
variable set by `running_at`). Outside a run it is the real time, so nothing else changes.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_run_instant: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("fengqiao_run_instant", default=None)


class _RunClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        instant = _run_instant.get()
        if instant is None:
            return datetime.now(tz)
        return instant.astimezone(tz) if tz is not None else instant


_spiff_timer.datetime = _RunClockDatetime


@contextmanager
def running_at(instant: datetime):
    """Within the block, SpiffWorkflow's timers see `instant` (aware) as now."""
    token = _run_instant.set(instant)
    try:
        yield
    finally:
        _run_instant.reset(token)
