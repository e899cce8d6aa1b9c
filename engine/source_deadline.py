"""A channel's own deadline (the 12345 工单's 办理时限, a court's 委派 period): the earlier of it and a
node's limit drives warnings.

A task's due time is capped at the source's when the task is created (engine/projection.py), and the
timer sweep marks the case 临期 and 超期 by the source's clock once each (`sweep_source_deadlines`),
so a source deadline earlier than ours shows and escalates exactly as our own limits do.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .events import EventLog
from .models import Case, HumanTask
from .task_meta import DEFAULT_WARN_SHARE


def source_warning(registered_at: datetime, due_at: datetime) -> datetime:
    """When to warn about a source deadline: the same share of the time as our own nodes use."""
    if due_at <= registered_at:
        return due_at
    return registered_at + (due_at - registered_at) * DEFAULT_WARN_SHARE


def cap_task_deadline(case: Case, due_at: datetime | None, warn_at: datetime | None
                      ) -> tuple[datetime | None, datetime | None, bool]:
    """A new task's (due, warn) times with the case's source deadline applied; the flag says the
    source's deadline is the earlier one."""
    if case.source_due_at is None or case.status != "open":
        return due_at, warn_at, False
    capped = due_at is None or case.source_due_at < due_at
    if capped:
        due_at = case.source_due_at
    if case.source_warn_at is not None and (warn_at is None or case.source_warn_at < warn_at):
        warn_at = case.source_warn_at
    return due_at, warn_at, capped


def sweep_source_deadlines(session_factory: Callable[[], Session], now: datetime, batch: int = 500) -> list[int]:
    """Mark open cases whose source deadline warns or expires by `now`; returns the cases marked.

    Each case once per state, under its row lock (a case another writer holds is left for the next
    sweep), in its own transaction.
    """
    with session_factory() as session:
        due_ids = session.scalars(select(Case.id).where(
            Case.status == "open", Case.source_warn_at.is_not(None), Case.source_warn_at <= now,
            (Case.source_warned_at.is_(None)) | (Case.source_overdue_at.is_(None) & (Case.source_due_at <= now)),
        ).order_by(Case.source_warn_at).limit(batch)).all()
    marked = []
    for case_id in due_ids:
        with session_factory() as session:
            case = session.execute(select(Case).where(Case.id == case_id).with_for_update(skip_locked=True)
                                   .execution_options(populate_existing=True)).scalar_one_or_none()
            if case is None or case.status != "open":
                continue
            if _mark(session, case, now):
                session.commit()
                marked.append(case_id)
    return marked


def _mark(session: Session, case: Case, now: datetime) -> bool:
    ready = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready")).all()
    log = EventLog(session, case.id, now)
    changed = False
    if case.source_warned_at is None and case.source_warn_at <= now:
        case.source_warned_at = now
        for row in ready:
            row.warned_at = row.warned_at or now
        log.add("system", "source_warning", f"来源时限临期预警：来源要求 {_local(case.source_due_at)} 前办结",
                data={"source_due_at": case.source_due_at.isoformat()})
        changed = True
    if case.source_overdue_at is None and case.source_due_at <= now:
        case.source_overdue_at = now
        for row in ready:
            row.overdue_at = row.overdue_at or now
        case.is_overdue = any(row.paused_at is None for row in ready) or case.is_overdue
        log.add("system", "source_overdue", f"超过来源时限：来源要求 {_local(case.source_due_at)} 前办结",
                data={"source_due_at": case.source_due_at.isoformat()})
        changed = True
    return changed


def _local(moment: datetime) -> str:
    from .calendar import SHANGHAI

    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
