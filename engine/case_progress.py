"""A case's progress in plain words, for people outside the center: the citizen on the public status
page and the channel that sent the case (its status pull and callbacks).

Only what such a reader may know: where the case stands, which center (and department) has it, by
when the current step is due, and the result. No other party's data, no internal notes, no names of
staff.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Case, CaseEvent, Department, HumanTask, Jurisdiction

STAGE_TEXT = {
    "received": "已收到，等待受理审查",
    "accepted": "已受理，正在研判",
    "returned": "不予受理",
    "dispatched": "已分流，正在办理",
    "concluded": "已办结",
    "terminated": "已终止",
}


@dataclass(frozen=True)
class Progress:
    case_code: str
    stage: str  # one of STAGE_TEXT
    stage_text: str
    center: str  # the 综治中心 handling it now
    department: str | None
    due_at: datetime | None  # the current step is due by then (None when closed)
    registered_at: datetime
    closed_at: datetime | None
    result_text: str | None  # what came of it, once closed or returned
    awaiting_feedback: bool  # 回访 is waiting: the citizen may give satisfaction feedback

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("due_at", "registered_at", "closed_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def case_progress(session: Session, case: Case) -> Progress:
    ready = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready")
                            .order_by(HumanTask.due_at)).all()
    decided = _acceptance(session, case)
    stage = _stage(case, decided)
    center = session.get(Jurisdiction, case.handling_jurisdiction_code)
    department = session.get(Department, case.department_id) if case.department_id else None
    due = min((row.due_at for row in ready if row.due_at is not None), default=None)
    return Progress(
        case_code=case.code, stage=stage, stage_text=STAGE_TEXT[stage],
        center=(center.center_name or center.name) if center else case.handling_jurisdiction_code,
        department=department.name if department else case.department,
        due_at=due if case.status == "open" else None, registered_at=case.created_at, closed_at=case.closed_at,
        result_text=_result_text(case, stage, decided),
        awaiting_feedback=any(row.element_id == "follow_up" for row in ready),
    )


def _acceptance(session: Session, case: Case) -> dict | None:
    """The data of the 受理 decision (a completed task whose form asks `accepted`), if made."""
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                         CaseEvent.kind == "task_completed").order_by(CaseEvent.id)):
        if isinstance(event.data.get("accepted"), bool):
            return event.data
    return None


def _stage(case: Case, acceptance: dict | None) -> str:
    if acceptance is not None and acceptance["accepted"] is False:
        return "returned"
    if case.status in ("concluded", "terminated"):
        return case.status
    if case.department or case.department_id:
        return "dispatched"
    if acceptance is not None:
        return "accepted"
    return "received"


def _result_text(case: Case, stage: str, acceptance: dict | None) -> str | None:
    if stage == "returned":
        reason = (acceptance or {}).get("reject_reason")
        return f"不予受理：{reason}" if reason else "不予受理"
    if stage not in ("concluded", "terminated"):
        return None
    outcome = case.data.get("mediation_outcome")
    if outcome == "success":
        return "调解成功，已达成协议"
    if stage == "terminated":
        return "调解未成，已告知其他解决途径"
    return "已办结"
