"""Which results a channel hears about, written to its outbox in the transaction that reached them.

A result is 受理 (accepted) or 不予受理 (returned) when the acceptance decision is made, 分流
(dispatched) when a dispatch task completes, and 办结 (concluded) when the case closes. Writing the
notification in the same transaction as the change means none is lost and none is sent for a change
that was rolled back; engine/callbacks.py delivers them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .case_progress import case_progress
from .models import Case, CaseEvent, ChannelNotification, HumanTask

RESULT_TEXT = {"accepted": "已受理", "returned": "不予受理", "dispatched": "已分流转办", "concluded": "已办结"}
# Forms that decide where a case goes (分流转办); petitions register and dispatch in one form.
DISPATCH_FORMS = ("dispatch", "petition_register")


def results_of(session: Session, events: list[CaseEvent]) -> list[str]:
    """The results `events` (one transaction's) reach, in the order they happened."""
    results = []
    for event in events:
        if event.kind == "task_completed":
            accepted = event.data.get("accepted")
            if isinstance(accepted, bool):
                results.append("accepted" if accepted else "returned")
                continue
            row = session.get(HumanTask, event.task_id) if event.task_id else None
            if row is not None and any(name in row.form for name in DISPATCH_FORMS):
                results.append("dispatched")
        elif event.kind == "case_closed" and "returned" not in results:
            results.append("concluded")
    return results


def record_results(session: Session, case: Case, events: list[CaseEvent], now: datetime) -> list[ChannelNotification]:
    """Queue a notification to the case's channel for each result `events` reach."""
    results = results_of(session, events)
    if not results:
        return []
    session.flush()  # the case's projections are what the payload reports
    last = session.scalar(select(func.max(ChannelNotification.sequence))
                          .where(ChannelNotification.case_id == case.id)) or 0
    progress = case_progress(session, case).as_json()
    queued = []
    for offset, result in enumerate(results, start=1):
        notification = ChannelNotification(
            channel_id=case.channel_id, case_id=case.id, sequence=last + offset, result=result,
            payload={"case_code": case.code, "reference": case.source_reference, "result": result,
                     "result_text": RESULT_TEXT[result], "at": now.isoformat(), "progress": progress},
            state="pending", attempts=0, next_attempt_at=now, created_at=now)
        session.add(notification)
        queued.append(notification)
    return queued
