"""What a draft simulation reports, and reading one simulated case back out of the scratch database.

A path is told the way the case's own records tell it: the tasks as the `human_task` projection
offered them (queue, deadline, warning time), the event log for timers, transfers, documents and
the end, and the workflow's task tree for which elements and sequence flows the case went through.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from .calendar import SHANGHAI
from .draft_elements import FlowElement
from .models import Case, CaseDocument, CaseEvent, Department, HumanTask, Jurisdiction
from .task_meta import ROLES

STATUS_NAMES = {"concluded": "已办结", "terminated": "已终止", "open": "未办结", "stalled": "停在等待：没有待办，也没有计时器",
                "error": "运行出错", "step_limit": "步数已满，停止模拟"}
# Event log entries a path shows besides its tasks.
EVENT_KINDS = ("timer_fired", "level_changed", "case_transferred", "case_not_transferred", "document_issued",
               "task_cancelled", "case_closed")
REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.ERROR


@dataclass(frozen=True)
class Answer:
    """One decision on a path: the data a task was completed with, or `data` None when the clock was
    moved on to the case's next timer instead (超时不办). `choice` says what differs from the default
    answer ("是否受理 = 否"), empty for the default."""

    element_id: str
    task_name: str
    form: str
    data: dict[str, Any] | None
    choice: str = ""


@dataclass(frozen=True)
class TaskStep:
    """A task the path offered: to whom, by when, and how it ended on the path."""

    element_id: str
    name: str
    form: str
    role: str
    role_name: str  # 调解员
    center_code: str  # the queue: the center it is offered at …
    center_name: str
    department: str | None  # … and, for a liaison's task, the department
    candidates: tuple[str, ...]  # display names of the users who may take it there
    created_at: datetime  # Asia/Shanghai
    due_at: datetime | None
    warn_at: datetime | None
    limit: str | None  # "7 工作日"
    provisional: bool  # counted over days the holiday library does not know yet
    outcome: str  # completed / cancelled / open
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class PathEvent:
    """A timer fired, a move between levels, a document issued, the case closed."""

    at: datetime
    kind: str
    element_id: str | None
    summary: str


@dataclass(frozen=True)
class RunError:
    """Where a path stopped with an error: the element and the engine's message."""

    element_id: str | None
    message: str


@dataclass
class SimulatedPath:
    number: int
    choices: list[str]  # the answers that differ from the defaults, "受理审查：是否受理 = 否"
    answers: list[Answer]
    steps: list[TaskStep]
    events: list[PathEvent]
    documents: list[str]  # titles of the documents issued, in order
    status: str  # concluded / terminated / open / stalled / error / step_limit
    error: RunError | None
    reached: list[str]  # element ids, in the order of the task tree

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)


@dataclass
class SimulationReport:
    """Everything a simulation found. `problems` non-empty means the draft did not run at all."""

    category_code: str
    jurisdiction_code: str
    place: str  # where the sample case was registered
    place_name: str
    start: datetime
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    paths: list[SimulatedPath] = field(default_factory=list)
    runs: int = 0  # cases run, duplicates included
    duplicates: int = 0  # runs that went exactly the way an earlier one did
    capped: bool = False  # stopped at the run limit with alternatives left untried
    max_runs: int = 0
    unreached: list[FlowElement] = field(default_factory=list)
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)  # element id -> generated answer
    intake: dict[str, Any] = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        return not self.problems


# -- reading a simulated case back ----------------------------------------------------------------

Candidates = Callable[[Session, HumanTask], tuple[str, ...]]


def task_steps(session: Session, case_id: int, candidates: Candidates) -> list[TaskStep]:
    """The case's tasks in the order they were created, with their queue and deadlines."""
    created = session.scalars(select(CaseEvent.task_id).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == "task_created").order_by(CaseEvent.id)).all()
    rows = {row.id: row for row in session.scalars(select(HumanTask).where(HumanTask.case_id == case_id))}
    answers = {event.task_id: event.data for event in session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == "task_completed"))}
    steps = []
    for task_id in dict.fromkeys(created):
        row = rows.get(task_id)
        if row is None:
            continue
        center = session.get(Jurisdiction, row.jurisdiction_code) if row.jurisdiction_code else None
        department = session.get(Department, row.department_id) if row.department_id else None
        steps.append(TaskStep(
            row.element_id, row.name, row.form, row.role, ROLES.get(row.role, row.role), row.jurisdiction_code,
            (center.center_name or center.name) if center else (row.jurisdiction_code or "—"),
            department.name if department else None, candidates(session, row), _local(row.created_at),
            _local(row.due_at), _local(row.warn_at), row.deadline, row.deadline_provisional,
            "open" if row.state == "ready" else row.state, answers.get(task_id)))
    return steps


def path_events(session: Session, case_id: int) -> list[PathEvent]:
    """Timers fired, level changes and transfers, documents issued and the end, in order."""
    return [PathEvent(_local(event.at), event.kind, event.element_id, event.summary)
            for event in session.scalars(select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.kind.in_(EVENT_KINDS)).order_by(CaseEvent.id))]


def document_titles(session: Session, case_id: int) -> list[str]:
    return list(session.scalars(select(CaseDocument.title).where(CaseDocument.case_id == case_id)
                                .order_by(CaseDocument.id)))


def reached_elements(workflow, flows: dict[tuple[str, str], list[str]]) -> tuple[list[str], set[str]]:
    """(element ids the case went through, in task-tree order and as often as it went through
    them; sequence flow ids it took).

    A flow is taken when the task of its target hangs below a task of its source; the engine's own
    helper tasks (a boundary event's split) have no BPMN id and are looked through.
    """
    reached: list[str] = []
    taken: set[str] = set()
    for process in (workflow, *workflow.subprocesses.values()):
        stack = [process.task_tree]
        while stack:
            task = stack.pop()
            stack.extend(reversed(task.children))
            element_id = getattr(task.task_spec, "bpmn_id", None)
            if element_id is None or not _went_through(task):
                continue
            reached.append(element_id)
            parent = task.parent
            while parent is not None and getattr(parent.task_spec, "bpmn_id", None) is None:
                parent = parent.parent
            if parent is not None:
                taken.update(flows.get((parent.task_spec.bpmn_id, element_id), ()))
    return reached, taken


def case_status(session: Session, case_id: int) -> str:
    """open / concluded / terminated (only the column: the row carries the whole workflow state)."""
    return session.scalar(select(Case.status).where(Case.id == case_id)) or "error"


def _went_through(task) -> bool:
    if task.state & REACHED:
        return True
    # A catch event the case waits at has been reached; a boundary event waiting has not fired.
    return task.state == TaskState.WAITING and not isinstance(task.task_spec, BoundaryEvent)


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(SHANGHAI) if value is not None else None
