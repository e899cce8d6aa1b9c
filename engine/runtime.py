"""Running cases: start one, complete its tasks, fire its timers — each in one transaction.

Every change to a case goes through `_advance`: lock the case row, load its workflow, act, run the
engine until it waits again, project tasks/timers/status into plain columns, append to the event log,
save with a version check, commit. Two writers can never both advance one case: the loser gets a
ConflictError and the database is as the winner left it.
"""
from __future__ import annotations

from dataclasses import dataclass
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

from .actors import REGISTERING_ROLES, SYSTEM, Actor
from .bundle import ProcessBundle
from .calendar_store import load_calendar
from .calendar import SHANGHAI, Duration, WorkingCalendar
from .case_codes import next_case_code
from .clock import Clock
from .deadlines import deadline_helpers
from .designed_categories import attach
from .duplicates import index_case
from .documents import DocumentRenderer, issue_document
from .errors import ConflictError, EngineError, Forbidden, NotFound, ProcessError, TaskNotReady, UnknownCategory
from .events import EventLog
from .follow_up_owner import assign_follow_up
from .assignment import check_may_work, get_visible_case
from .json_data import json_copy
from .channel_results import record_results
from .levels import registration_center
from .models import Case, ExtensionRequest, HumanTask, PendingTimer, ProcessSpec
from .projection import FiredTimer, project, recompute_timer_due_times
from .registry import Category, ProcessRegistry
from .script_limits import DEFAULT_LIMITS, ScriptLimits
from .scripting import ScriptError, script_engine
from .source_deadline import source_warning
from .stage_documents import issue_stage_documents
from .on_the_spot import check_intake as check_on_the_spot
from .serialization import WorkflowCodec
from .versions import ensure_in_force
from .spiff_time import running_at
from .forms import Form
from .task_meta import TaskMeta
from .task_clock import ClockError, Pause, extend_timers, extended_due, park_timers, restore_timers, shift_due

MAX_ENGINE_PASSES = 10


@dataclass
class RunContext:
    """What an action on a loaded case may use: everything is of this one transaction."""

    session: Session
    case: Case
    bundle: ProcessBundle
    calendar: WorkingCalendar
    now: datetime
    log: EventLog
    actor: Actor
    script_limits: ScriptLimits = DEFAULT_LIMITS
SUPERVISOR_ROLE = "director"  # 中心主任 approves extensions


@dataclass(frozen=True)
class CaseSource:
    """Where a case came from when a channel sent it: the channel, its own reference and deadline."""

    channel_id: int | None = None
    reference: str | None = None
    due_at: datetime | None = None

    def apply(self, case: Case, now: datetime) -> None:
        case.channel_id, case.source_reference = self.channel_id, self.reference
        if self.due_at is not None:
            case.source_due_at = self.due_at
            case.source_warn_at = source_warning(now, self.due_at)


class CaseRuntime:
    """The case engine's public entry points. Holds no per-case state; safe to share."""

    def __init__(self, registry: ProcessRegistry, clock: Clock,
                 calendar_loader: Callable[[Session, str], WorkingCalendar] | None = None,
                 codec: WorkflowCodec | None = None, renderer: DocumentRenderer | None = None,
                 script_limits: ScriptLimits = DEFAULT_LIMITS):
        self.registry = registry
        self.clock = clock
        # (session, jurisdiction code) -> the calendar in force there (engine/calendar_store.py).
        self.calendar_loader = calendar_loader or (lambda session, code: load_calendar(
            session, code, self.registry.variants.calendar_rulings()))
        self.codec = codec or WorkflowCodec()
        self.renderer = renderer or DocumentRenderer(
            variant_dirs=lambda chain: self.registry.variants.documents_dirs(chain))
        # Time, loop and memory limits of each script, condition, timer expression and DMN cell.
        self.script_limits = script_limits

    # -- commands ------------------------------------------------------------------------------

    def start_case(self, session: Session, category_code: str, intake: dict[str, Any],
                   jurisdiction_code: str, actor: Actor, *, source: CaseSource | None = None,
                   commit: bool = True) -> Case:
        """Register a case of `category_code` with its intake data and run it to its first wait.

        The intake is validated against the category's intake form (FormInvalid, nothing stored).
        `source` names the channel that sent it, its reference and its own deadline. With
        `commit=False` the case is flushed but the transaction is left to the caller, who registers
        several cases all or nothing (a 台账 import) or records more in the same transaction (a
        channel's submission); on an error everything is rolled back either way.
        """
        if not actor.roles & REGISTERING_ROLES:
            raise Forbidden(f"registering a case needs one of the roles {', '.join(sorted(REGISTERING_ROLES))}")
        if not actor.can_register(jurisdiction_code):
            raise Forbidden(f"{actor.username} may not register cases in jurisdiction {jurisdiction_code}")
        category = self.category(session, category_code)
        version, bundle, form = self._intake(session, category_code, jurisdiction_code)
        intake = json_copy(form.validate(intake))
        # 当场办结 only where the locality switches it on (engine/on_the_spot.py).
        check_on_the_spot(session, getattr(self.registry, "variants", None), jurisdiction_code, form.name, intake)
        now = self.clock.now()
        try:
            code = next_case_code(session, jurisdiction_code, now.astimezone(SHANGHAI).year)
            workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
            workflow.task_tree.data.update(json_copy(intake))
            case = Case(
                code=code, category_code=category_code, spec_hash=bundle.hash, process_version_id=version.id,
                jurisdiction_code=jurisdiction_code, status="open", title=intake.get("title") or category.name,
                handling_jurisdiction_code=registration_center(session, actor, jurisdiction_code),
                intake=intake, created_by=actor.username, created_at=now, updated_at=now,
                workflow_state="", current_nodes=[],
            )
            if source is not None:
                source.apply(case, now)
            session.add(case)
            session.flush()
            index_case(session, case)  # match keys for finding repeat complaints (engine/duplicates.py)
            log = EventLog(session, case.id, now)
            log.add(actor.username, "case_started", f"登记受理：{category.name}", data=intake)
            self._run(session, case, bundle, workflow, actor, log, now, lambda wf, ctx: None)
            if commit:
                session.commit()
            else:
                session.flush()
        except Exception:
            session.rollback()
            raise
        return case

    def complete_task(self, session: Session, task_id: str, data: dict[str, Any], actor: Actor) -> Case:
        """Complete ready task `task_id` with form data, then run the case until it waits again.

        Raises FormInvalid (per field, nothing changed), NotFound, Forbidden, TaskNotReady or
        ConflictError (someone else got there first), ProcessError (the definition failed; rolled back).
        """
        row, case = self._handler_task(session, task_id, actor)
        data = json_copy(self._bundle(session, case.spec_hash).form(row.form).validate(data))

        def complete(workflow: BpmnWorkflow, ctx: RunContext) -> None:
            task = _ready_task(workflow, task_id)
            task.set_data(**json_copy(data))
            task.run()

        return self._advance(session, row.case_id, actor, complete,
                             completed=(task_id, row, data))

    def complete_on_behalf(self, session: Session, task_id: str, data: dict[str, Any], actor: Actor) -> Case:
        """Complete ready task `task_id` for someone outside the task queues — the citizen answering
        回访 on the public status page. The caller has authenticated them for this case; the queue
        and claim checks of `complete_task` do not apply, everything else does."""
        row = session.get(HumanTask, task_id)
        if row is None:
            raise NotFound(f"task {task_id} does not exist")
        if row.state != "ready":
            raise TaskNotReady(task_id, row.state)
        case = session.get(Case, row.case_id)
        data = json_copy(self._bundle(session, case.spec_hash).form(row.form).validate(data))

        def complete(workflow: BpmnWorkflow, ctx: RunContext) -> None:
            task = _ready_task(workflow, task_id)
            task.set_data(**json_copy(data))
            task.run()

        return self._advance(session, row.case_id, actor, complete, completed=(task_id, row, data))

    def fire_due_timers(self, session: Session, case_id: int) -> list[FiredTimer] | None:
        """Let every timer of case `case_id` that is due by now fire, and run on. Used by the sweep.

        Returns the timers that fired, or None if another writer holds the case (it is skipped).
        """
        fired: list[FiredTimer] = []
        case = self._advance(session, case_id, SYSTEM, lambda wf, ctx: wf.refresh_timers(), fired=fired,
                             skip_locked=True)
        return None if case is None else fired

    def pause_clock(self, session: Session, task_id: str, reason: str, actor: Actor) -> Case:
        """Stop the clock of ready task `task_id` for a reason its definition allows (鉴定, 听证 …)."""
        row, case = self._handler_task(session, task_id, actor)
        meta = self._bundle(session, case.spec_hash).tasks[row.element_id]
        if reason not in meta.pause_reasons:
            allowed = "、".join(meta.pause_reasons) or "无"
            raise ClockError(f"{row.name} may not be paused for {reason!r}; allowed: {allowed}")
        if row.paused_at is not None:
            raise ClockError(f"{row.name} is already paused since {row.paused_at.isoformat()}")

        def pause(workflow: BpmnWorkflow, ctx: RunContext) -> None:
            task = _ready_task(workflow, task_id)
            row.paused_timers = park_timers(task)
            row.paused_at, row.pause_reason = ctx.now, reason
            ctx.log.add(actor.username, "clock_paused", f"暂停计时：{row.name}（{reason}）",
                        element_id=row.element_id, task_id=task_id, data={"reason": reason})

        return self._advance(session, case.id, actor, pause)

    def resume_clock(self, session: Session, task_id: str, actor: Actor) -> Case:
        """Restart a paused clock; the task's deadline and timers move later by the paused time."""
        row, case = self._handler_task(session, task_id, actor)
        if row.paused_at is None:
            raise ClockError(f"{row.name} is not paused")
        meta = self._bundle(session, case.spec_hash).tasks[row.element_id]

        def resume(workflow: BpmnWorkflow, ctx: RunContext) -> None:
            task = _ready_task(workflow, task_id)
            paused_for = ctx.now - row.paused_at
            paused = Pause(row.paused_at, ctx.now, meta.deadline.unit)
            restore_timers(task, row.paused_timers, paused, ctx.calendar)
            # The row moves exactly as the timers do, so 临期/超期 shown and fired agree.
            if row.due_at is not None:
                row.due_at = shift_due(row.due_at, paused, ctx.calendar)
            if row.warn_at is not None:
                row.warn_at = shift_due(row.warn_at, paused, ctx.calendar)
            ctx.log.add(actor.username, "clock_resumed", f"恢复计时：{row.name}（暂停 {_span(paused_for)}）",
                        element_id=row.element_id, task_id=task_id,
                        data={"reason": row.pause_reason, "paused_seconds": int(paused_for.total_seconds()),
                              "due_at": row.due_at.isoformat() if row.due_at else None})
            row.paused_at, row.pause_reason, row.paused_timers = None, None, {}

        return self._advance(session, case.id, actor, resume)

    def request_extension(self, session: Session, task_id: str, amount: str, reason: str,
                          actor: Actor) -> ExtensionRequest:
        """Ask a supervisor to extend ready task `task_id` by `amount` (e.g. "30 日") for `reason`."""
        row, case = self._handler_task(session, task_id, actor)
        meta = self._bundle(session, case.spec_hash).tasks[row.element_id]
        extension = _parse_extension(amount)
        if meta.extension is None:
            raise ClockError(f"{row.name} cannot be extended")
        if extension.unit != meta.extension.unit or extension.amount > meta.extension.amount:
            raise ClockError(f"{row.name} may be extended by at most {meta.extension}")
        if row.extensions_granted >= meta.max_extensions:
            raise ClockError(f"{row.name} has already been extended {row.extensions_granted} time(s)")
        if not reason.strip():
            raise ClockError("an extension needs a reason (告知延期理由)")
        pending = session.scalar(select(ExtensionRequest).where(
            ExtensionRequest.task_id == task_id, ExtensionRequest.state == "pending"))
        if pending is not None:
            raise ClockError(f"an extension of {row.name} is already waiting for a decision")
        now = self.clock.now()
        request = ExtensionRequest(case_id=case.id, task_id=task_id, amount=str(extension), reason=reason.strip(),
                                   state="pending", requested_by=actor.username, requested_at=now)
        session.add(request)
        EventLog(session, case.id, now).add(actor.username, "extension_requested",
                                            f"申请延期：{row.name} {extension}", element_id=row.element_id,
                                            task_id=task_id, data={"amount": str(extension), "reason": reason})
        session.commit()
        return request

    def decide_extension(self, session: Session, request_id: int, approve: bool, note: str,
                         actor: Actor) -> ExtensionRequest:
        """A supervisor (director) approves or rejects a pending extension request."""
        request = session.get(ExtensionRequest, request_id)
        case = session.get(Case, request.case_id) if request is not None else None
        if request is None or not actor.covers(case.handling_jurisdiction_code):
            raise NotFound(f"extension request {request_id} does not exist")
        if not actor.can_take(SUPERVISOR_ROLE, case.handling_jurisdiction_code):
            raise Forbidden("deciding an extension needs the director role (中心主任) over the handling center")
        if request.state != "pending":
            raise ConflictError(f"extension request {request_id} was already {request.state}")
        row = session.get(HumanTask, request.task_id)
        extension = Duration.parse(request.amount)

        def decide(workflow: BpmnWorkflow, ctx: RunContext) -> None:
            request.state = "approved" if approve else "rejected"
            request.decided_by, request.decided_at, request.decision_note = actor.username, ctx.now, note
            if not approve:
                ctx.log.add(actor.username, "extension_rejected", f"不予延期：{row.name}",
                            element_id=row.element_id, task_id=row.id, data={"note": note})
                return
            if row.state != "ready":
                raise TaskNotReady(row.id, row.state)
            task = _ready_task(workflow, row.id)
            if row.paused_at is not None:
                row.paused_timers = {k: extended_due(_aware(v), extension, ctx.calendar).isoformat()
                                     for k, v in row.paused_timers.items()}
            else:
                extend_timers(task, extension, ctx.calendar)
            row.due_at = extended_due(row.due_at, extension, ctx.calendar)
            if row.warn_at is not None:
                row.warn_at = extended_due(row.warn_at, extension, ctx.calendar)
            row.extensions_granted += 1
            ctx.log.add(actor.username, "extension_approved", f"批准延期：{row.name} {extension}",
                        element_id=row.element_id, task_id=row.id,
                        data={"amount": str(extension), "reason": request.reason, "note": note,
                              "due_at": row.due_at.isoformat()})
            self._issue_extension_notice(ctx, row, request)

        self._advance(session, case.id, actor, decide)
        return request

    def act(self, session: Session, case_id: int, actor: Actor, action) -> Case:
        """Run `action(workflow, ctx: RunContext)` on case `case_id` the one way a case changes: under
        its row lock, then run on, project, log, save with a version check and commit (engine/levels.py
        and engine/transfers.py move cases and departments with it). The action raises to refuse."""
        return self._advance(session, case_id, actor, action)

    def category(self, session: Session, category_code: str) -> Category:
        """The category; one created in the designer by another process is looked up in the database
        before UnknownCategory is raised."""
        try:
            return self.registry.category(category_code)
        except UnknownCategory:
            if not attach(session, self.registry, self.codec):
                raise
            return self.registry.category(category_code)

    def intake_form(self, session: Session, category_code: str, jurisdiction_code: str) -> Form:
        """The registration form of a category as the version in force at `jurisdiction_code` defines it."""
        return self._intake(session, category_code, jurisdiction_code)[2]

    def definition_in_force(self, session: Session, category_code: str, jurisdiction_code: str) -> ProcessBundle:
        """The process version a case registered at `jurisdiction_code` now would run on (the 路线图 reads it)."""
        return self._intake(session, category_code, jurisdiction_code)[1]

    def _intake(self, session: Session, category_code: str, jurisdiction_code: str):
        # The version in force where the case is registered (a county variant or the base).
        category = self.category(session, category_code)
        version = ensure_in_force(session, self.registry, category_code, jurisdiction_code, self.clock.now(),
                                  self.codec)
        bundle = self._bundle(session, version.spec_hash)
        form_name = (version.settings or {}).get("intake_form") or category.intake_form
        return version, bundle, bundle.form(form_name)

    def bundle(self, session: Session, case: Case) -> ProcessBundle:
        """The process version the case runs on (restored from the database if not in memory)."""
        return self._bundle(session, case.spec_hash)

    def form(self, session: Session, case: Case, form_name: str) -> Form:
        """A form as the version the case runs on defines it."""
        return self.bundle(session, case).form(form_name)

    def task_meta(self, session: Session, case: Case, element_id: str) -> TaskMeta:
        """What the definition a case runs on declares for one of its user tasks."""
        return self.bundle(session, case).tasks[element_id]

    def _issue_extension_notice(self, ctx: RunContext, row: HumanTask, request: ExtensionRequest) -> None:
        """The notice the law requires when a limit is extended (告知延期理由)."""
        document = issue_document(
            ctx.session, ctx.case, "extension_notice",
            {"task_name": row.name, "extension": request.amount, "reason": request.reason,
             "new_due": row.due_at, "approved_by": ctx.actor.display_name or ctx.actor.username},
            ctx.now, self.renderer, self._category_name(ctx.case), element_id=row.element_id)
        ctx.log.add("system", "document_issued", f"出具{document.title}：{document.number}",
                    element_id=row.element_id, data={"document_id": document.id, "doc_type": document.doc_type,
                                                     "number": document.number})

    def _category_name(self, case: Case) -> str:
        category = self.registry.categories.get(case.category_code)
        return category.name if category else case.category_code

    def _handler_task(self, session: Session, task_id: str, actor: Actor) -> tuple[HumanTask, Case]:
        """The ready task and its case, if `actor` may work on it now (see engine.assignment)."""
        row = session.get(HumanTask, task_id)
        if row is None or get_visible_case(session, actor, row.case_id) is None:
            raise NotFound(f"task {task_id} does not exist")
        case = session.get(Case, row.case_id)
        if row.state != "ready":
            raise TaskNotReady(task_id, row.state)
        check_may_work(row, actor)
        return row, case

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
        self._advance(session, case_id, SYSTEM, lambda wf, ctx: recompute_timer_due_times(
            wf, ctx.bundle, ctx.calendar, ctx.session, ctx.case))

    # -- the one way a case changes ----------------------------------------------------------------

    def _advance(self, session: Session, case_id: int, actor: Actor, action, *, completed=None,
                 fired: list | None = None, skip_locked: bool = False) -> Case:
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
                      completed=completed, fired=fired)
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

    def _run(self, session, case, bundle, workflow, actor, log, now, action, *, completed=None, fired=None):
        calendar = self.calendar_loader(session, case.handling_jurisdiction_code or case.jurisdiction_code)
        workflow.script_engine = script_engine(deadline_helpers(bundle, calendar, now), self.script_limits)
        try:
            with running_at(now):
                context = RunContext(session, case, bundle, calendar, now, log, actor, self.script_limits)
                action(workflow, context)
                bundle = context.bundle  # an action may move the case to another version (engine/migration.py)
                _run_until_waiting(workflow)
        except EngineError:
            raise
        except (WorkflowException, SpiffWorkflowException) as exc:
            raise ProcessError(_element_of(exc), _message_of(exc)) from None
        except Exception as exc:  # SpiffWorkflow does not wrap every failure (ENGINE_NOTES)
            raise ProcessError(None, f"{type(exc).__name__}: {exc}") from None
        project(session, case, bundle, workflow, calendar, now, actor, log,
                completed=completed, fired=fired, renderer=self.renderer,
                category_name=self._category_name(case))
        # 谁调解、谁负责 where the locality switches it on (engine/follow_up_owner.py).
        assign_follow_up(session, case, self.registry.variants, now, log)
        # A locality's “三单” at 受理/分流/办结 when the category's process does not issue them itself.
        issue_stage_documents(session, case, list(log.added), now, self.renderer, self._category_name(case),
                              getattr(self.registry, "variants", None), log)
        case.workflow_state = self.codec.dump_state(workflow)
        case.updated_at = now
        if case.channel_id is not None:
            # Results the sending channel hears about, in this same transaction (an outbox).
            record_results(session, case, log.added, now)

    # -- specs ---------------------------------------------------------------------------------------

    def _bundle(self, session: Session, spec_hash: str) -> ProcessBundle:
        bundle = self.registry.bundle(spec_hash)
        if bundle is None:
            row = session.get(ProcessSpec, spec_hash)
            if row is None:
                raise NotFound(f"process definition {spec_hash} is not stored")
            bundle = self.codec.load_specs(row.hash, row.process_id, row.spec_json)
            self.registry.remember(bundle)
        return bundle


def _ready_task(workflow: BpmnWorkflow, task_id: str):
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise TaskNotReady(task_id, TaskState.get_name(task.state) if task else "gone")
    return task


def _parse_extension(amount: str) -> Duration:
    try:
        return Duration.parse(amount)
    except ValueError as exc:
        raise ClockError(f"extension {amount!r}: {exc}") from None


def _aware(iso: str) -> datetime:
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    return TimerEventDefinition.get_datetime(iso)


def _span(delta) -> str:
    days, seconds = delta.days, delta.seconds
    return f"{days} 天 {seconds // 3600} 小时" if days else f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分钟"


def _run_until_waiting(workflow: BpmnWorkflow) -> None:
    """Run engine tasks until only human tasks and waiting events are left.

    A timer that fires becomes READY during do_engine_steps' final refresh, and its branch only
    runs on the next pass (ENGINE_NOTES), hence the loop.
    """
    for _ in range(MAX_ENGINE_PASSES):
        workflow.do_engine_steps()
        if not workflow.get_tasks(state=TaskState.READY, manual=False):
            return


def _element_of(exc: Exception) -> str | None:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None)


def _message_of(exc: Exception) -> str:
    line = getattr(exc, "line_number", None)
    where = f" (line {line})" if line else ""
    text = str(exc).rstrip(". ")
    cause = _script_cause(exc)
    detail = cause.msg if isinstance(cause, SyntaxError) else str(cause)
    if cause is not None and detail not in text:
        # SpiffWorkflow says only "Error evaluating expression '…'" for conditions and DMN cells.
        text = f"{text}: {detail}"
    return f"{text}{where}"


def _script_cause(exc: Exception) -> Exception | None:
    """The sandbox's own error (a limit hit, something refused) behind an engine exception."""
    seen = exc.__context__
    while seen is not None:
        if isinstance(seen, (ScriptError, SyntaxError)):
            return seen
        seen = seen.__context__
    return None

