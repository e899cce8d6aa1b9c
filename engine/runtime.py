"""Running cases: start one, complete its tasks, fire its timers — each in one transaction.

Every change to a case goes through `_advance`: lock the case row, load its workflow, act, run the
engine until it waits again, project tasks/timers/status into plain columns, append to the event log,
save with a version check, commit. Two writers can never both advance one case: the loser gets a
ConflictError and the database is as the winner left it.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from .actors import SYSTEM, Actor
from .bundle import ProcessBundle
from .calendar_store import load_calendar
from .calendar import SHANGHAI, WorkingCalendar
from .case_codes import next_case_code
from .clock import Clock
from .deadlines import deadline_helpers
from .errors import ConflictError, Forbidden, NotFound, ProcessError, TaskNotReady
from .events import EventLog
from .models import Case, HumanTask, PendingTimer, ProcessSpec
from .projection import FiredTimer, project, recompute_timer_due_times
from .registry import ProcessRegistry
from .scripting import script_engine
from .serialization import WorkflowCodec
from .spiff_time import running_at

MAX_ENGINE_PASSES = 10
REGISTERING_ROLES = frozenset({"clerk"})  # 窗口受理员; channels and grid workers come with intake


class CaseRuntime:
    """The case engine's public entry points. Holds no per-case state; safe to share."""

    def __init__(self, registry: ProcessRegistry, clock: Clock,
                 calendar_loader: Callable[[Session], WorkingCalendar] = load_calendar,
                 codec: WorkflowCodec | None = None):
        self.registry = registry
        self.clock = clock
        self.calendar_loader = calendar_loader
        self.codec = codec or WorkflowCodec()

    # -- commands ------------------------------------------------------------------------------

    def start_case(self, session: Session, category_code: str, intake: dict[str, Any],
                   jurisdiction_code: str, actor: Actor) -> Case:
        """Register a case of `category_code` with its intake data and run it to its first wait.

        The intake is validated against the category's intake form (FormInvalid, nothing stored).
        """
        if not actor.covers(jurisdiction_code):
            raise Forbidden(f"{actor.username} may not register cases in jurisdiction {jurisdiction_code}")
        if not actor.roles & REGISTERING_ROLES:
            raise Forbidden(f"registering a case needs one of the roles {', '.join(sorted(REGISTERING_ROLES))}")
        category = self.registry.category(category_code)
        intake = _copy(self.registry.forms.validate(category.intake_form, intake))
        bundle = category.bundle
        self._store_spec(session, category_code, bundle)
        now = self.clock.now()
        try:
            code = next_case_code(session, jurisdiction_code, now.astimezone(SHANGHAI).year)
            workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
            workflow.task_tree.data.update(_copy(intake))
            case = Case(
                code=code, category_code=category_code, spec_hash=bundle.hash,
                jurisdiction_code=jurisdiction_code, status="open", title=intake.get("title") or category.name,
                intake=intake, created_by=actor.username, created_at=now, updated_at=now,
                workflow_state="", current_nodes=[],
            )
            session.add(case)
            session.flush()
            log = EventLog(session, case.id, now)
            log.add(actor.username, "case_started", f"登记受理：{category.name}", data=intake)
            self._run(session, case, bundle, workflow, actor, log, now, lambda wf: None)
            session.commit()
        except Exception:
            session.rollback()
            raise
        return case

    def complete_task(self, session: Session, task_id: str, data: dict[str, Any], actor: Actor) -> Case:
        """Complete ready task `task_id` with form data, then run the case until it waits again.

        Raises FormInvalid (per field, nothing changed), NotFound, Forbidden, TaskNotReady or
        ConflictError (someone else got there first), ProcessError (the definition failed; rolled back).
        """
        row = session.get(HumanTask, task_id)
        if row is None:
            raise NotFound(f"task {task_id} does not exist")
        case = session.get(Case, row.case_id)
        if not actor.covers(case.jurisdiction_code):
            raise NotFound(f"task {task_id} does not exist")
        if not actor.may_act_as(row.role):
            raise Forbidden(f"task {row.name} needs role {row.role}; {actor.username} does not hold it")
        if row.state != "ready":
            raise TaskNotReady(task_id, row.state)
        data = _copy(self.registry.forms.validate(row.form, data))

        def complete(workflow: BpmnWorkflow) -> None:
            task = workflow.get_task_from_id(UUID(task_id))
            if task is None or task.state != TaskState.READY:
                raise TaskNotReady(task_id, TaskState.get_name(task.state) if task else "gone")
            task.set_data(**_copy(data))
            task.run()

        return self._advance(session, row.case_id, actor, complete,
                             completed=(task_id, row, data))

    def fire_due_timers(self, session: Session, case_id: int) -> list[FiredTimer] | None:
        """Let every timer of case `case_id` that is due by now fire, and run on. Used by the sweep.

        Returns the timers that fired, or None if another writer holds the case (it is skipped).
        """
        fired: list[FiredTimer] = []
        case = self._advance(session, case_id, SYSTEM, lambda wf: wf.refresh_timers(), fired=fired, skip_locked=True)
        return None if case is None else fired

    def recompute_provisional_deadlines(self, session: Session) -> int:
        """Recompute every provisional deadline with the current calendar; returns the cases touched.

        Run after an administrator edits the override table or a newer holiday library is installed.
        """
        case_ids = set(session.scalars(select(PendingTimer.case_id).where(PendingTimer.provisional.is_(True))))
        case_ids |= set(session.scalars(select(HumanTask.case_id).where(
            HumanTask.state == "ready", HumanTask.deadline_provisional.is_(True))))
        session.rollback()
        for case_id in sorted(case_ids):
            self.recompute_deadlines(session, case_id)
        return len(case_ids)

    def recompute_deadlines(self, session: Session, case_id: int) -> None:
        """Re-evaluate calendar-based due times of a case (after calendar overrides changed)."""
        self._advance(session, case_id, SYSTEM, None, recompute=recompute_timer_due_times)

    # -- the one way a case changes ----------------------------------------------------------------

    def _advance(self, session: Session, case_id: int, actor: Actor, action, *, completed=None,
                 fired: list | None = None, skip_locked: bool = False, recompute=None) -> Case:
        try:
            query = select(Case).where(Case.id == case_id).with_for_update(skip_locked=skip_locked)
            case = session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
            if case is None:
                if skip_locked:
                    session.rollback()
                    return None
                raise NotFound(f"case {case_id} does not exist")
            bundle = self._bundle(session, case.spec_hash)
            now = self.clock.now()
            workflow = self.codec.load_state(case.workflow_state, bundle)
            log = EventLog(session, case.id, now)
            self._run(session, case, bundle, workflow, actor, log, now, action,
                      completed=completed, fired=fired, recompute=recompute)
            session.flush()
            session.commit()
            return case
        except StaleDataError:
            session.rollback()
            raise ConflictError(f"case {case_id} was changed by someone else at the same time; reload and try again") from None
        except IntegrityError as exc:
            session.rollback()
            raise ConflictError(f"case {case_id} could not be saved: {exc.orig}") from None
        except Exception:
            session.rollback()
            raise

    def _run(self, session, case, bundle, workflow, actor, log, now, action, *, completed=None,
             fired=None, recompute=None):
        calendar = self.calendar_loader(session)
        workflow.script_engine = script_engine(deadline_helpers(bundle, calendar, now))
        try:
            with running_at(now):
                if recompute is not None:
                    recompute(workflow, bundle, calendar, session, case)
                if action is not None:
                    action(workflow)
                _run_until_waiting(workflow)
        except (TaskNotReady, NotFound, Forbidden):
            raise
        except (WorkflowException, SpiffWorkflowException) as exc:
            raise ProcessError(_element_of(exc), _message_of(exc)) from None
        except Exception as exc:  # SpiffWorkflow does not wrap every failure (ENGINE_NOTES)
            raise ProcessError(None, f"{type(exc).__name__}: {exc}") from None
        project(session, case, bundle, workflow, calendar, now, actor, log, self.registry.forms,
                completed=completed, fired=fired)
        case.workflow_state = self.codec.dump_state(workflow)
        case.updated_at = now

    # -- specs ---------------------------------------------------------------------------------------

    def _store_spec(self, session: Session, category_code: str, bundle: ProcessBundle) -> None:
        if session.get(ProcessSpec, bundle.hash) is None:
            session.add(ProcessSpec(hash=bundle.hash, category_code=category_code, process_id=bundle.process_id,
                                    spec_json=self.codec.dump_specs(bundle), created_at=self.clock.now()))
            session.flush()

    def _bundle(self, session: Session, spec_hash: str) -> ProcessBundle:
        bundle = self.registry.bundle(spec_hash)
        if bundle is None:
            row = session.get(ProcessSpec, spec_hash)
            if row is None:
                raise NotFound(f"process definition {spec_hash} is not stored")
            bundle = self.codec.load_specs(row.hash, row.process_id, row.spec_json)
            self.registry.remember(bundle)
        return bundle


def _run_until_waiting(workflow: BpmnWorkflow) -> None:
    """Run engine tasks until only human tasks and waiting events are left.

    A timer that fires becomes READY during do_engine_steps' final refresh, and its branch only
    runs on the next pass (ENGINE_NOTES), hence the loop.
    """
    for _ in range(MAX_ENGINE_PASSES):
        workflow.do_engine_steps()
        if not workflow.get_tasks(state=TaskState.READY, manual=False):
            return


def _copy(data: Any) -> Any:
    """A deep, JSON-clean copy: task data is shared by reference inside SpiffWorkflow."""
    return json.loads(json.dumps(data, ensure_ascii=False))


def _element_of(exc: Exception) -> str | None:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None)


def _message_of(exc: Exception) -> str:
    line = getattr(exc, "line_number", None)
    where = f" (line {line})" if line else ""
    return f"{exc}{where}"

