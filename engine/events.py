"""The append-only event log of a case (timeline): who, when, what, with a copy of the data."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .json_data import json_copy
from .models import CaseEvent


class EventLog:
    """Appends events for one case within the current transaction."""

    def __init__(self, session: Session, case_id: int, at: datetime):
        self.session, self.case_id, self.at = session, case_id, at
        self.added: list[CaseEvent] = []  # this transaction's events, for what reacts to them

    def add(self, actor: str, kind: str, summary: str, *, element_id: str | None = None,
            task_id: str | None = None, data: dict[str, Any] | None = None) -> CaseEvent:
        """Record one event; `data` is copied so later changes to task data cannot alter history."""
        event = CaseEvent(case_id=self.case_id, at=self.at, actor=actor, kind=kind, summary=summary[:300],
                          element_id=element_id, task_id=task_id,
                          data=json_copy(data or {}))
        self.session.add(event)
        self.added.append(event)
        return event
