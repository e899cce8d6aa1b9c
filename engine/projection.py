"""Project a workflow into plain columns after every engine run.

Inboxes, deadline boards and the scheduler read `human_task`, `pending_timer` and the case row with
plain SQL; this module keeps them equal to the workflow and writes the matching events.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import levels
from .actors import Actor
from .assignment import claim_on_completion
from .bundle import ProcessBundle
from .case_statistics import close_statistics, update_statistics
from .calendar import WorkingCalendar
from .deadlines import timer_deadline
from .documents import DocumentRenderer, generate_documents
from .events import EventLog
from .json_data import json_copy
from .models import Case, HumanTask, PendingTimer
from .source_deadline import cap_task_deadline
from .task_queues import TaskQueues

@dataclass(frozen=True)
class FiredTimer:
    case_id: int
    element_id: str
    kind: str | None


TIMER_KIND_SUMMARY = {"warning": "临期预警", "overdue": "超期", "escalate": "超期升级", "expire": "期满终止"}
CASE_FIELDS = ("risk_color", "handling_level", "department")
LEVEL_NAMES = {"village": "村（社区）", "township": "乡镇（街道）", "county": "县（区）"}


def project(session: Session, case: Case, bundle: ProcessBundle, workflow: BpmnWorkflow,
            calendar: WorkingCalendar, now: datetime, actor: Actor, log: EventLog, *,
            completed=None, fired: list | None = None, renderer: DocumentRenderer | None = None,
            category_name: str = "") -> None:
    """Bring the case's projections and event log up to date with `workflow`."""
    ready_rows = {row.id: row for row in session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready"))}
    _project_timers(session, case, bundle, workflow, calendar, now, log, ready_rows, fired)
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    # Before tasks are created: a new level moves the case, so its next tasks go to the new center.
    move = levels.follow_level(session, case, bundle, workflow, ready, case_data(workflow, ready), now, log)
    _project_human_tasks(session, case, bundle, ready, calendar, now, actor, log, ready_rows, completed)
    _project_case(session, case, bundle, workflow, ready, now, log, ready_rows)
    # Last: documents read the tasks just created (a 转送交办单 says by when) and who completed what.
    if renderer is not None:
        documents = generate_documents(session, case, bundle, workflow, now, renderer, category_name)
        for document in documents:
            log.add("system", "document_issued", f"出具{document.title}：{document.number}",
                    element_id=document.element_id, task_id=document.task_id,
                    data={"document_id": document.id, "doc_type": document.doc_type, "number": document.number})
        levels.issue_missing_transfer_order(session, case, move, documents, now, renderer, category_name, log)


def _project_human_tasks(session, case, bundle, ready, calendar, now, actor, log, ready_rows, completed):
    queues = TaskQueues(session, case)
    if completed is not None:
        task_id, row, data = completed
        row = ready_rows.pop(task_id, row)
        on_behalf_of = claim_on_completion(row, actor, now)
        row.state, row.completed_at, row.completed_by = "completed", now, actor.username
        summary = f"办理：{row.name}" + (f"（AB岗：代 {on_behalf_of} 办理）" if on_behalf_of else "")
        event_data = dict(data, _on_behalf_of=on_behalf_of) if on_behalf_of else data
        log.add(actor.username, "task_completed", summary, element_id=row.element_id,
                task_id=task_id, data=event_data)
    ready_ids = {str(task.id) for task in ready}
    for task_id, row in list(ready_rows.items()):
        if task_id not in ready_ids:
            row.state, row.completed_at = "cancelled", now
            log.add("system", "task_cancelled", f"撤回：{row.name}", element_id=row.element_id, task_id=task_id)
            del ready_rows[task_id]
    for task in ready:
        task_id = str(task.id)
        if task_id in ready_rows:
            continue
        meta = bundle.tasks[task.task_spec.bpmn_id]
        queue = queues.queue_for(meta, task.data)
        due = calendar.add(now, meta.deadline)
        warn = calendar.warning(now, meta.deadline, meta.warn_share)
        due_at, warn_at, by_source = cap_task_deadline(case, due.due, warn.due)
        row = HumanTask(
            id=task_id, case_id=case.id, category_code=case.category_code, element_id=meta.element_id,
            name=meta.label(task.data), role=meta.role,
            form=meta.form, state="ready", deadline=str(meta.deadline), created_at=now, warn_at=warn_at,
            jurisdiction_code=queue.jurisdiction_code, department_id=queue.department_id,
            due_at=due_at, deadline_provisional=due.provisional and not by_source,
            form_defaults=_form_defaults(bundle, meta.form, task.data),
            # A source deadline already passed or warned applies to the tasks that come after it.
            warned_at=now if case.source_warned_at else None, overdue_at=now if case.source_overdue_at else None,
        )
        session.add(row)
        ready_rows[task_id] = row
        log.add("system", "task_created", f"待办：{row.name}", element_id=meta.element_id, task_id=task_id,
                data={"role": meta.role, "deadline": str(meta.deadline), "due_at": due_at.isoformat(),
                      "provisional": due.provisional, "jurisdiction": queue.jurisdiction_code,
                      "department_id": queue.department_id})


def _project_timers(session, case, bundle, workflow, calendar, now, log, ready_rows, fired):
    rows = {row.task_id: row for row in session.scalars(select(PendingTimer).where(PendingTimer.case_id == case.id))}
    waiting = {str(task.id): task for task in _waiting_timers(workflow)}
    for task_id, row in rows.items():
        if task_id in waiting:
            due = _due_of(waiting[task_id])
            if due is not None and due != row.due_at:
                row.due_at = due
            continue
        task = workflow.get_task_from_id(UUID(task_id))
        if task is not None and task.state in (TaskState.READY, TaskState.COMPLETED):
            _timer_fired(row, bundle, now, log, ready_rows, case, fired)
        session.delete(row)
    for task_id, task in waiting.items():
        if task_id in rows:
            continue
        due = _due_of(task)
        if due is None:
            continue
        meta = bundle.timers.get(task.task_spec.bpmn_id)
        recomputed = timer_deadline(bundle, meta, calendar, now) if meta else None
        session.add(PendingTimer(case_id=case.id, task_id=task_id, element_id=task.task_spec.bpmn_id,
                                 kind=meta.kind if meta else None, due_at=due, started_at=now,
                                 provisional=bool(recomputed and recomputed.provisional)))


def _timer_fired(row: PendingTimer, bundle, now, log, ready_rows, case, fired) -> None:
    meta = bundle.timers.get(row.element_id)
    target = meta.target if meta else None
    summary = TIMER_KIND_SUMMARY.get(row.kind or "", "计时器到期")
    affected = [r for r in ready_rows.values() if r.element_id == target]
    if affected:
        summary += "：" + "、".join(r.name for r in affected)
    for task_row in affected:
        if row.kind == "warning" and task_row.warned_at is None:
            task_row.warned_at = now
        elif row.kind == "overdue" and task_row.overdue_at is None:
            task_row.overdue_at = now
    log.add("system", "timer_fired", summary, element_id=row.element_id, task_id=row.task_id,
            data={"kind": row.kind, "due_at": row.due_at.isoformat(), "fired_at": now.isoformat()})
    if fired is not None:
        fired.append(FiredTimer(case.id, row.element_id, row.kind))


def _project_case(session: Session, case: Case, bundle: ProcessBundle, workflow: BpmnWorkflow, ready: list, now,
                  log, ready_rows) -> None:
    data = case_data(workflow, ready)
    department_before = case.department
    for field in CASE_FIELDS:
        value = data.get(field)
        if field == "handling_level" and value and case.handling_level and value != case.handling_level:
            log.add("system", "level_changed",
                    f"{levels.level_change_word(case.handling_level, value)}："
                    f"{LEVEL_NAMES.get(case.handling_level, case.handling_level)} → {LEVEL_NAMES.get(value, value)}",
                    data={"from": case.handling_level, "to": value})
        setattr(case, field, value if isinstance(value, str) else getattr(case, field))
    if case.department != department_before:
        # Dispatched (分流) to a department: its id, as stationed at the handling center, is what
        # access and statistics read — set it now, not only when a liaison task is created. Only on
        # a change: a name no department of the center bears would otherwise be looked up every run.
        levels.refresh_department(session, case)
    case.data = json_copy(data, lenient=True)
    case.is_paused = any(row.paused_at is not None for row in ready_rows.values())
    # A paused case shows as paused, not overdue: the law does not count the paused time.
    case.is_overdue = any(row.overdue_at is not None and row.paused_at is None for row in ready_rows.values())
    names = sorted({row.name for row in ready_rows.values()})
    case.current_nodes = names
    update_statistics(case, data, ready_rows.values())
    if workflow.is_completed() and case.status == "open":
        case.status = _end_status(workflow, bundle)
        case.closed_at = now
        case.current_nodes = []
        close_statistics(case, data)
        log.add("system", "case_closed", "已办结" if case.status == "concluded" else "已终止",
                data={"status": case.status})


def case_data(workflow: BpmnWorkflow, ready: list | None = None) -> dict[str, Any]:
    """The case data as the main line of the process sees it (`ready`: its ready user tasks, if known)."""
    if ready is None:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    # Supervision and other called processes work on copies; the top-level process holds the case's
    # own data, and its most recently reached task has the newest of it.
    main_line = [t for t in ready if t.workflow is workflow] or ready
    if main_line:
        return max(main_line, key=lambda t: t.last_state_change).data
    if workflow.last_task is not None:
        return workflow.last_task.data
    return workflow.task_tree.data


def _end_status(workflow: BpmnWorkflow, bundle: ProcessBundle) -> str:
    for task in workflow.tasks.values():
        if isinstance(task.task_spec, EndEvent) and task.state == TaskState.COMPLETED:
            if bundle.end_statuses.get(task.task_spec.bpmn_id) == "terminated":
                return "terminated"
    return "concluded"


def _waiting_timers(workflow: BpmnWorkflow):
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            yield task


def _due_of(task) -> datetime | None:
    value = task.task_spec.event_definition.details(task).value
    if value is None:
        return None
    return TimerEventDefinition.get_datetime(value) if isinstance(value, str) else None


def _form_defaults(bundle: ProcessBundle, form_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The case data the task's form shows as defaults — only its own fields, so the row does not
    copy personal data the form does not ask for."""
    fields = bundle.form(form_name).schema.get("properties", {})
    return json_copy({key: data[key] for key in fields if key in data}, lenient=True)


def recompute_timer_due_times(workflow: BpmnWorkflow, bundle: ProcessBundle, calendar: WorkingCalendar,
                              session: Session, case: Case) -> None:
    """Re-evaluate provisional due times with the current calendar (overrides or newer holiday data).

    Rewriting a timer's stored `event_value` is how SpiffWorkflow lets a due time move (ENGINE_NOTES).
    """
    for row in session.scalars(select(PendingTimer).where(PendingTimer.case_id == case.id,
                                                          PendingTimer.provisional.is_(True))):
        meta = bundle.timers.get(row.element_id)
        deadline = timer_deadline(bundle, meta, calendar, row.started_at) if meta else None
        task = workflow.get_task_from_id(UUID(row.task_id))
        if deadline is None or task is None:
            continue
        task.internal_data["event_value"] = deadline.due.isoformat()
        row.provisional = deadline.provisional
    for row in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready",
                                                       HumanTask.deadline_provisional.is_(True))):
        meta = bundle.tasks.get(row.element_id)
        if meta is None:
            continue
        due = calendar.add(row.created_at, meta.deadline)
        row.due_at, row.deadline_provisional = due.due, due.provisional
        row.warn_at = calendar.warning(row.created_at, meta.deadline, meta.warn_share).due
