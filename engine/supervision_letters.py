"""督办 from the node-timer list: a 政法委 manager or center director sends the handler of one open task a
工作提示函 (a reminder that its limit is near or past) or a 督办函 (formal supervision with the
supervisor's written opinion).

A letter changes no workflow: it is a numbered document about the task and an entry in the case's
timeline, written in one transaction. The case row is locked while the task's state is checked, so a
letter is never issued about a task another user completed at the same moment.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .cockpit_timers import STATES, UNCLAIMED, task_state
from .documents import DOCUMENT_TYPES, issue_document
from .errors import EngineError, Forbidden, NotFound, TaskNotReady
from .events import EventLog
from .models import Case, CaseDocument, Department, HumanTask, Jurisdiction, User
from .queries import get_case
from .task_meta import ROLES
from .time_left import clock_text, span_text

if TYPE_CHECKING:
    from .runtime import CaseRuntime

KINDS = ("work_reminder", "supervision_letter")  # 工作提示函, 督办函
NOTE_LIMIT = 500
EVENT_KIND = "supervision_sent"


class LetterError(EngineError, ValueError):
    """A letter that cannot be sent as asked; `field` names the input (kind, note)."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


def send_letter(session: Session, runtime: CaseRuntime, actor: Actor, task_id: str, kind: str, note: str | None,
                now: datetime) -> CaseDocument:
    """Issue a 工作提示函 (`kind` "work_reminder") or 督办函 ("supervision_letter") about the open task
    `task_id` and log it on the case; flushed, the caller commits.

    Only a 中心主任 or 政法委管理者 who reads the case and whose jurisdiction covers the task's queue may
    send one. Raises NotFound (no such task, or a case the actor does not read), Forbidden (not a
    supervisor of the queue), TaskNotReady (the task was completed or withdrawn) and LetterError naming
    the field for an unknown kind, a 督办函 without a note or a note over 500 characters.
    `runtime` supplies the document renderer and the category names.
    """
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    case = get_case(session, actor, task.case_id)
    queue = task.jurisdiction_code or case.handling_jurisdiction_code or case.jurisdiction_code
    if not actor.supervises(queue):
        raise Forbidden(f"{actor.username} does not supervise {queue}: only a 中心主任 or 政法委管理者 there "
                        "may send a 工作提示函 or 督办函")
    # Hold the case while deciding, as a task completion does (CaseRuntime._advance), and read the task
    # as it is now, not as this session first saw it.
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    session.refresh(task)
    if task.state != "ready":
        raise TaskNotReady(task_id, task.state)
    note = _checked(kind, note)

    details = letter_details(session, actor, task, case, note, now)
    return issue_task_letter(session, runtime, task, case, kind, details, now, actor.username, EVENT_KIND, "督办")


def issue_task_letter(session: Session, runtime: CaseRuntime, task: HumanTask, case: Case, kind: str, details: dict,
                      now: datetime, by: str, event_kind: str, prefix: str, extra: dict | None = None) -> CaseDocument:
    """Issue letter `kind` about `task` with `details` (letter_details) and log it as `event_kind`; flushed.

    Shared by letters a supervisor sends (send_letter) and those a locality issues automatically
    (engine/auto_letters.py): same numbering in the handling center's series, same timeline entry.
    """
    document_type = DOCUMENT_TYPES[kind]
    category = runtime.registry.categories.get(case.category_code)
    # No task_id on the document: one task may draw several letters (a reminder, then a 督办函), while
    # (case, task, type) is unique for the documents the process itself issues once per task.
    document = issue_document(session, case, kind, details, now, runtime.renderer,
                              category.name if category else case.category_code, element_id=task.element_id)
    EventLog(session, case.id, now).add(
        by, event_kind, f"{prefix}：出具{document_type.title} {document.number}（{task.name}，{details['time_left']}）",
        element_id=task.element_id, task_id=task.id,
        data={"document_id": document.id, "doc_type": kind, "number": document.number, "note": details["note"],
              "state": details["state"], "due_at": task.due_at.isoformat() if task.due_at else None,
              **(extra or {})})
    session.flush()
    return document


def letter_details(session: Session, actor: Actor, task: HumanTask, case: Case, note: str,
                   now: datetime) -> dict:
    """What the letter says about the task: node, handler and queue, limit, due time, time left or
    overdue by, its state, the note and who sent it (the templates show these as `details`)."""
    state = task_state(task, now)
    return {
        "task_name": task.name,
        "element_id": task.element_id,
        "handler": _display_name(session, task.claimed_by) if task.claimed_by else UNCLAIMED,
        "queue": _queue_text(session, task, case),
        "deadline": task.deadline or "",  # as the process states it: 30 日
        "due": task.due_at,
        "elapsed": span_text(now - task.created_at),
        "time_left": clock_text(task.due_at, task.paused_at, now),
        "state": STATES[state],
        "overdue": state == "overdue",
        "note": note,
        "sent_by": actor.display_name or actor.username,
        "sent_by_role": next((ROLES[role] for role in ("manager", "director") if role in actor.roles), ""),
    }


def _checked(kind: str, note: str | None) -> str:
    if kind not in KINDS:
        raise LetterError("kind", f"文书类型“{kind}”无效，可选：工作提示函（work_reminder）、督办函（supervision_letter）")
    note = (note or "").strip()
    if kind == "supervision_letter" and not note:
        raise LetterError("note", "督办函须填写督办意见")
    if len(note) > NOTE_LIMIT:
        raise LetterError("note", f"督办意见不能超过 {NOTE_LIMIT} 个字（现有 {len(note)} 个字）")
    return note


def _display_name(session: Session, username: str) -> str:
    name = session.scalar(select(User.display_name).where(User.username == username))
    return name or username


def _queue_text(session: Session, task: HumanTask, case: Case) -> str:
    """The queue the task is offered to: the center (and department) and the role, 九原区综治中心 · 调解员."""
    code = task.jurisdiction_code or case.handling_jurisdiction_code or case.jurisdiction_code
    place = session.get(Jurisdiction, code) if code else None
    parts = [(place.center_name or place.name) if place is not None else code]
    if task.department_id is not None:
        department = session.get(Department, task.department_id)
        if department is not None:
            parts.append(department.name)
    parts.append(ROLES.get(task.role, task.role))
    return " · ".join(part for part in parts if part)

