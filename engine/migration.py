"""Moving a running case to a newer process version: preview the differences, then migrate.

Running cases stay on the version they started with; moving one is an explicit act of a designer or
director, after a preview. SpiffWorkflow's own diff (`SpiffWorkflow.bpmn.util.diff`) aligns the old
and new specs by element id and lists what was added, removed and changed. A case may only move when
no changed or removed element has already run in it: its history must stay true to the definition
that made it. `migrate_workflow` resets the tasks that are ready or waiting, which would restart
every timer clock (ENGINE_NOTES): each waiting task's stored due time is saved before and put back
after, so deadlines do not move. It all happens in one `CaseRuntime.act` — under the case row
lock, with the version check — and nothing is written if any step fails.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_dependencies, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .actors import Actor
from .bundle import ProcessBundle
from .deadlines import deadline_helpers
from .errors import Forbidden, MigrationRefused, NoVersion, NotFound
from .models import Case, ProcessVersion
from .scripting import script_engine
from .variant_lookup import ancestors
from .versions import in_force

MIGRATING_ROLES = frozenset({"designer", "director"})  # 流程设计员, 中心主任
# A task in one of these states has run (or is running): its element must not change under it.
RAN = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR
# Only predicted tasks may belong to a removed element: the reset drops and re-predicts them.
PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE

_registry = None


@dataclass(frozen=True)
class ElementChange:
    """One BPMN element that differs between the case's version and the target."""

    element_id: str
    name: str
    process_id: str
    kind: str  # added / removed / changed
    attributes: tuple[str, ...] = ()  # what changed (serialized spec keys: extensions, outputs …)
    states: tuple[str, ...] = ()  # states of this element's tasks in the case
    blocking: bool = False

    def as_data(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "name": self.name, "process_id": self.process_id,
                "kind": self.kind, "attributes": list(self.attributes), "states": list(self.states)}


@dataclass
class MigrationPreview:
    """What moving case `case_id` to `target` would change, and whether it may."""

    case_id: int
    case_code: str
    current: ProcessVersion | None
    target: ProcessVersion
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # reasons besides elements that ran

    @property
    def blocking(self) -> list[ElementChange]:
        """Changed or removed elements that already ran (or hold a live task) in this case."""
        return [change for change in self.removed + self.changed if change.blocking]

    @property
    def allowed(self) -> bool:
        return not self.refusals and not self.blocking

    def summary(self) -> str:
        return f"新增 {len(self.added)} 个、删除 {len(self.removed)} 个、修改 {len(self.changed)} 个元素"

    def reasons(self) -> list[str]:
        """Why the case may not move, in words a user can act on."""
        blocked = [f"{c.name or c.element_id}（{c.element_id}）已执行，但在新版本中被{'删除' if c.kind == 'removed' else '修改'}"
                   for c in self.blocking]
        return self.refusals + blocked

    def as_data(self) -> dict[str, Any]:
        return {"from_version_id": self.current.id if self.current else None,
                "to_version_id": self.target.id, "to_number": self.target.number,
                "to_jurisdiction": self.target.jurisdiction_code, "to_hash": self.target.spec_hash,
                "added": [c.as_data() for c in self.added], "removed": [c.as_data() for c in self.removed],
                "changed": [c.as_data() for c in self.changed]}


def preview_migration(session: Session, runtime, case_id: int, version_id: int) -> MigrationPreview:
    """Compare case `case_id`'s definition with version `version_id`; nothing is written.

    Raises NotFound for an unknown case or version. Scope the case to the user first (get_case).
    """
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    target = session.get(ProcessVersion, version_id)
    if target is None:
        raise NotFound(f"process version {version_id} does not exist")
    old = runtime.bundle(session, case)
    workflow = runtime.codec.load_state(case.workflow_state, old)
    preview = MigrationPreview(case.id, case.code, session.get(ProcessVersion, case.process_version_id)
                               if case.process_version_id else None, target)
    preview.refusals = _refusals(session, case, target)
    if target.category_code == case.category_code:
        new = runtime._bundle(session, target.spec_hash)
        _compare(preview, workflow, old, new)
    return preview


def migrate_case(session: Session, runtime, case_id: int, version_id: int, actor: Actor) -> MigrationPreview:
    """Move running case `case_id` to version `version_id`; timers keep their due times.

    Raises NotFound (no such case, or outside the actor's jurisdiction), Forbidden (not a designer
    or director), MigrationRefused (the preview says no — checked again under the case lock),
    ConflictError (someone changed the case at the same moment). Returns the preview that was applied.
    """
    case = session.get(Case, case_id)
    if case is None or not (actor.covers(case.jurisdiction_code)
                            or actor.covers(case.handling_jurisdiction_code or case.jurisdiction_code)):
        raise NotFound(f"case {case_id} does not exist")
    if not actor.roles & MIGRATING_ROLES:
        raise Forbidden("moving a case to a new process version needs the designer (流程设计员) or director (中心主任) role")
    target = session.get(ProcessVersion, version_id)
    if target is None:
        raise NotFound(f"process version {version_id} does not exist")
    applied: list[MigrationPreview] = []

    def migrate(workflow: BpmnWorkflow, ctx) -> None:
        # Checked again on the locked, freshly loaded case: a task may have completed since the preview.
        preview = MigrationPreview(ctx.case.id, ctx.case.code, ctx.session.get(ProcessVersion, ctx.case.process_version_id)
                                   if ctx.case.process_version_id else None, target)
        preview.refusals = _refusals(ctx.session, ctx.case, target)
        new = runtime._bundle(ctx.session, target.spec_hash) if target.category_code == ctx.case.category_code else None
        if new is not None:
            _compare(preview, workflow, ctx.bundle, new)
        if not preview.allowed:
            raise MigrationRefused(f"case {ctx.case.code} cannot move to {target.category_code} v{target.number}: "
                                   + "; ".join(preview.reasons()))
        _migrate(workflow, ctx.bundle, new, ctx)
        ctx.case.spec_hash, ctx.case.process_version_id = new.hash, target.id
        ctx.bundle = new
        ctx.log.add(actor.username, "case_migrated", f"迁移到新版本 v{target.number}：{preview.summary()}",
                    data=preview.as_data())
        applied.append(preview)

    runtime.act(session, case_id, actor, migrate)
    return applied[0]


# -- comparing -----------------------------------------------------------------------------------

def _refusals(session: Session, case: Case, target: ProcessVersion) -> list[str]:
    reasons = []
    if case.status != "open":
        reasons.append("案件已办结或终止，无需迁移")
    if target.category_code != case.category_code:
        reasons.append(f"v{target.number} 属于类别 {target.category_code}，与本案类别 {case.category_code} 不同")
        return reasons
    if target.withdrawn_at is not None:
        reasons.append(f"v{target.number} 已被回退，不能迁移到该版本")
    chain = ancestors(session, case.jurisdiction_code)
    if target.jurisdiction_code not in chain:
        reasons.append(f"v{target.number} 是为 {target.jurisdiction_code} 发布的，不适用于本案所在辖区")
    else:
        try:
            current = in_force(session, case.category_code, case.jurisdiction_code)
        except NoVersion:
            current = None
        if current is not None and current.id != target.id:
            reasons.append(f"v{target.number} 不是本案辖区现行的版本（现行：v{current.number}）")
    if case.process_version_id is not None and target.id <= case.process_version_id:
        reasons.append(f"v{target.number} 不比本案正在使用的版本新")
    if target.spec_hash == case.spec_hash:
        reasons.append("本案已在使用该版本的定义")
    return reasons


def _compare(preview: MigrationPreview, workflow: BpmnWorkflow, old: ProcessBundle, new: ProcessBundle) -> None:
    """Fill the preview's element lists from SpiffWorkflow's spec and workflow diffs."""
    registry = _spec_registry()
    states = _element_states(workflow)
    spec_diffs = [(old.process_id, SpecDiff(registry, old.spec, new.spec))]
    dependency_diffs, added_processes = diff_dependencies(registry, old.subprocess_specs, new.subprocess_specs)
    spec_diffs += [(name, diff) for name, diff in sorted(dependency_diffs.items()) if diff is not None]
    for name, diff in spec_diffs:
        for spec in diff.added:
            if _is_element(spec):
                preview.added.append(ElementChange(spec.bpmn_id, spec.bpmn_name or "", name, "added"))
        for spec in diff.removed:
            if _is_element(spec):
                found = states.get((name, spec.name), ())
                live = any(state not in _names(PREDICTED) for state in found)
                preview.removed.append(ElementChange(spec.bpmn_id, spec.bpmn_name or "", name, "removed",
                                                     (), found, live))
        for spec, attributes in diff.changed.items():
            if _is_element(spec):
                found = states.get((name, spec.name), ())
                ran = any(state in _names(RAN) for state in found)
                preview.changed.append(ElementChange(spec.bpmn_id, spec.bpmn_name or "", name, "changed",
                                                     tuple(attributes), found, ran))
    for name in added_processes:
        preview.added.append(ElementChange(name, name, name, "added"))
    for name, diff in dependency_diffs.items():
        if diff is None:
            running = any(sub.spec.name == name for sub in workflow.subprocesses.values())
            preview.removed.append(ElementChange(name, name, name, "removed", (), ("running",) if running else (),
                                                 running))


def _element_states(workflow: BpmnWorkflow) -> dict[tuple[str, str], tuple[str, ...]]:
    """(process spec name, task spec name) -> the states its tasks have in the case."""
    found: dict[tuple[str, str], set[str]] = {}
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.tasks.values():
            key = (process.spec.name, task.task_spec.name)
            found.setdefault(key, set()).add(TaskState.get_name(task.state))
    return {key: tuple(sorted(states)) for key, states in found.items()}


def _names(mask: int) -> set[str]:
    return {TaskState.get_name(state) for state in (TaskState.FUTURE, TaskState.LIKELY, TaskState.MAYBE,
                                                    TaskState.WAITING, TaskState.READY, TaskState.STARTED,
                                                    TaskState.COMPLETED, TaskState.ERROR, TaskState.CANCELLED)
            if state & mask}


def _is_element(spec) -> bool:
    # Start, End and the engine's helper specs (BoundaryEventSplit …) have no BPMN id of their own.
    return getattr(spec, "bpmn_id", None) is not None


# -- migrating -----------------------------------------------------------------------------------

def _migrate(workflow: BpmnWorkflow, old: ProcessBundle, new: ProcessBundle, ctx) -> None:
    registry = _spec_registry()
    waiting = {task.id: copy.deepcopy(task.internal_data)
               for process in (workflow, *workflow.subprocesses.values())
               for task in process.get_tasks(state=TaskState.WAITING)}
    # Timers that restart during the reset are evaluated with the new version's deadlines.
    workflow.script_engine = script_engine(deadline_helpers(new, ctx.calendar, ctx.now), ctx.script_limits)
    top_diff, sub_diffs = diff_workflow(registry, workflow, new.spec, new.subprocess_specs)
    migrate_workflow(top_diff, workflow, new.spec)
    for sub_id, sub in list(workflow.subprocesses.items()):
        diff = sub_diffs.get(sub_id)
        if diff is not None:
            migrate_workflow(diff, sub, new.subprocess_specs[sub.spec.name])
    workflow.subprocess_specs = dict(new.subprocess_specs)
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.tasks.values():
            if process.spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                raise MigrationRefused(f"element {task.task_spec.name} of the case's version has no place in "
                                       "the new version; the case was not moved")
            saved = waiting.get(task.id)
            if saved is not None and task.state == TaskState.WAITING:
                task.internal_data = saved  # its due time as before the reset (ENGINE_NOTES)


def _spec_registry():
    global _registry
    if _registry is None:
        _registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    return _registry
