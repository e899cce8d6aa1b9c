"""The timer sweep: fire every due timer, touching only cases that have one due.

One plain function, called by APScheduler in `fengqiao serve` / `fengqiao scheduler` and directly by
tests with a fake clock. It reads the indexed `pending_timer.due_at` column, takes each due case in its
own transaction under a row lock (skipping cases another sweeper holds), and never lets one broken case
stop the rest. A timer fires exactly once: firing removes its pending row in the same transaction.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ConflictError
from .models import PendingTimer
from .projection import FiredTimer
from .runtime import CaseRuntime
from .source_deadline import sweep_source_deadlines
from .transfers import mark_overdue_transfers

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    fired: list[FiredTimer] = field(default_factory=list)
    cases_touched: int = 0
    skipped: list[int] = field(default_factory=list)  # held by another sweeper or writer
    failed: dict[int, str] = field(default_factory=dict)  # case id -> error
    overdue_transfers: list[int] = field(default_factory=list)  # 转办 flagged 超期 (engine/transfers.py)
    source_deadlines: list[int] = field(default_factory=list)  # cases 临期/超期 by a channel's own deadline


def sweep_due_timers(session_factory: Callable[[], Session], runtime: CaseRuntime, batch: int = 500) -> SweepResult:
    """Fire the timers due before now (strictly, as SpiffWorkflow does: never early)."""
    now = runtime.clock.now()
    result = SweepResult()
    with session_factory() as session:
        # A plain range scan over the due_at index, deduplicated here: grouping in SQL made planners
        # walk the whole table, so an idle sweep grew with the number of open cases.
        due = session.scalars(
            select(PendingTimer.case_id).where(PendingTimer.due_at < now)
            .order_by(PendingTimer.due_at).limit(batch * 4)
        ).all()
    case_ids = list(dict.fromkeys(due))[:batch]
    for case_id in case_ids:
        with session_factory() as session:
            try:
                fired = runtime.fire_due_timers(session, case_id)
            except ConflictError:
                result.skipped.append(case_id)
                continue
            except Exception as exc:  # one broken case must not stop the sweep
                log.exception("timer sweep: case %s failed", case_id)
                result.failed[case_id] = str(exc)
                continue
        if fired is None:
            result.skipped.append(case_id)
            continue
        result.cases_touched += 1
        result.fired.extend(fired)
    result.overdue_transfers = mark_overdue_transfers(session_factory, now, batch)
    result.source_deadlines = sweep_source_deadlines(session_factory, now, batch)
    return result
