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

FOLLOW_UP = "follow_up"  # the 回访 user task (processes/library/follow_up.bpmn), where the citizen's feedback goes

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
        awaiting_feedback=any(row.element_id == FOLLOW_UP for row in ready),
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


@dataclass(frozen=True)
class Milestone:
    at: datetime
    text: str


def milestones(session: Session, case: Case) -> list[Milestone]:
    """The public milestones of a case, oldest first: registered, accepted or returned, dispatched,
    closed. Only when each happened and which way it went, from the event log; never what was typed
    at a step (opinions, risk colours, other parties) nor who did it."""
    events = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind.in_(("case_started", "task_completed", "case_closed")))
        .order_by(CaseEvent.at, CaseEvent.id)).all()
    found: dict[str, Milestone] = {"registered": Milestone(case.created_at, "已登记")}
    for event in events:
        data = event.data or {}
        if event.kind == "case_started":
            found["registered"] = Milestone(event.at, "已登记")
        elif event.kind == "case_closed":
            found["closed"] = Milestone(event.at, STAGE_TEXT.get(data.get("status"), "已办结"))
        elif "decided" not in found and isinstance(data.get("accepted"), bool):
            found["decided"] = Milestone(event.at, "已受理" if data["accepted"] else "不予受理")
        elif "dispatched" not in found and isinstance(data.get("department"), str) and data["department"].strip():
            found["dispatched"] = Milestone(event.at, f"已分流，交{data['department'].strip()}办理")
    return sorted(found.values(), key=lambda milestone: milestone.at)


@dataclass(frozen=True)
class Feedback:
    """Where the citizen's satisfaction feedback stands."""

    task_id: str | None  # the ready 回访 task feedback would complete; None when none waits
    given: bool  # a 回访 was completed: by the citizen here, or by staff calling them


def feedback(session: Session, case: Case) -> Feedback:
    """Whether the case waits for the citizen's feedback (its 回访 task is ready) or already has it."""
    rows = session.execute(select(HumanTask.id, HumanTask.state).where(
        HumanTask.case_id == case.id, HumanTask.element_id == FOLLOW_UP)).all()
    ready = next((task_id for task_id, state in rows if state == "ready"), None)
    return Feedback(task_id=ready, given=any(state == "completed" for _, state in rows))
