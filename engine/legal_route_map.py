"""法治化路线图 before registration: the legal route of a category, read from its definition in force.

A guide desk (一窗分诊, the `intake_triage` switch) shows a citizen, before anything is registered,
how their kind of dispute will be handled: the steps in order with who handles each and its time
limit, the bodies the routing table sends such cases to, and where the dispute can go if mediation
fails (诉讼, 仲裁 …). Nothing here is written by hand per category: the steps are the user tasks of
the process version a case registered at that place would run on (a county variant and its
limits.toml included), the bodies are the `department` outputs of its decision tables (with the
variant's department names), and the alternatives are the choices of any `legal_route` field its
forms offer. So the map changes when the definition does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin as BusinessRuleTask
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from .bundle import ProcessBundle
from .task_meta import ROLES

LEVEL_NAMES = {"village": "村（社区）", "township": "乡镇（街道）", "county": "县（区）"}
# Processes a category calls only when something went wrong (督办 after a missed limit): not the route.
SUPERVISION_PROCESSES = frozenset({"supervision"})


@dataclass(frozen=True)
class RouteStep:
    element_id: str
    name: str
    role: str  # who handles it, in Chinese
    deadline: str  # "15 分钟", "30 日" …


@dataclass(frozen=True)
class HandlingBody:
    level: str  # in Chinese, "" when the table does not say
    department: str


@dataclass(frozen=True)
class RouteMap:
    category_code: str
    category_name: str
    steps: tuple[RouteStep, ...]
    bodies: tuple[HandlingBody, ...]
    alternatives: tuple[str, ...]  # 仲裁, 诉讼 … as the category's forms name them


def route_map(category_code: str, category_name: str, bundle: ProcessBundle) -> RouteMap:
    """The route of `bundle` (the definition in force at the place) in the order a case meets it."""
    specs = list(_walk(bundle))
    steps = tuple(RouteStep(spec.bpmn_id, meta.name, ROLES.get(meta.role, meta.role), str(meta.deadline))
                  for spec in specs if isinstance(spec, UserTask)
                  for meta in [bundle.tasks.get(spec.bpmn_id)] if meta is not None)
    bodies = _bodies(spec for spec in specs if isinstance(spec, BusinessRuleTask))
    forms = {bundle.tasks[step.element_id].form for step in steps}
    return RouteMap(category_code, category_name, _unique_steps(steps), bodies, _alternatives(bundle, forms))


def _walk(bundle: ProcessBundle, start=None, seen: set[int] | None = None) -> Iterable:
    """Task specs breadth-first along the sequence flows, past boundary events; a called process's
    steps come where it is called.

    Boundary events are what happens when a limit is missed (临期, 超期, 升级), not the route itself.
    """
    seen = set() if seen is None else seen
    queue = [bundle.spec.start if start is None else start]
    while queue:
        spec = queue.pop(0)
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        yield spec
        if isinstance(spec, SubWorkflowTask) and spec.spec not in SUPERVISION_PROCESSES:
            called = bundle.subprocess_specs.get(spec.spec)
            if called is not None:
                yield from _walk(bundle, called.start, seen)
        queue.extend(out for out in spec.outputs if not isinstance(out, BoundaryEvent))


def _unique_steps(steps: tuple[RouteStep, ...]) -> tuple[RouteStep, ...]:
    result, seen = [], set()
    for step in steps:
        if step.element_id not in seen:
            seen.add(step.element_id)
            result.append(step)
    return tuple(result)


def _literal(text: str | None) -> str | None:
    """A DMN output cell's string literal ('"村人民调解委员会"'), or None for an expression."""
    text = (text or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return None


def _bodies(rule_tasks: Iterable) -> tuple[HandlingBody, ...]:
    bodies: list[HandlingBody] = []
    for task in rule_tasks:
        table = task.dmnEngine.decision_table
        names = [output.name for output in table.outputs]
        if "department" not in names:
            continue
        for rule in table.rules:
            cells = dict(zip(names, (_literal(entry.text) for entry in rule.outputEntries)))
            if cells.get("department"):
                body = HandlingBody(LEVEL_NAMES.get(cells.get("handling_level") or "", ""), cells["department"])
                if body not in bodies:
                    bodies.append(body)
    return tuple(bodies)


def _alternatives(bundle: ProcessBundle, form_names: set[str]) -> tuple[str, ...]:
    result: list[str] = []
    for name in sorted(form_names):
        field = (bundle.forms.get(name) or {}).get("properties", {}).get("legal_route") or {}
        for choice in field.get("oneOf", []):
            title = choice.get("title")
            if title and choice.get("const") != "other" and title not in result:
                result.append(title)
    return tuple(result)
