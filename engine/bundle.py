"""One immutable, executable version of a category's process: specs plus what Fengqiao reads from them.

A bundle is identified by the content hash of the files it was parsed from. Its specs are serialized
once into the `process_spec` table; cases store only their own state and point at the hash.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from .calendar import Duration
from .errors import NotFound
from .forms import Form
from .task_meta import DEADLINE_HELPERS, TaskMeta


# Bundles parsed in this process, by content hash. A hash names exactly one definition, so every
# registry (a reload, a second app in the same process) reuses them instead of parsing again.
PARSED: dict[str, "ProcessBundle"] = {}


@dataclass(frozen=True)
class TimerMeta:
    """What a timer counts: a helper call on a task's deadline, a fixed duration, or a literal."""

    element_id: str
    kind: str | None  # warning / overdue / escalate
    helper: str | None  # warning_of / deadline_of / escalation_of / deadline
    target: str | None  # the user task whose deadline the helper reads
    duration: Duration | None  # for deadline(amount, unit)


@dataclass(frozen=True)
class ProcessBundle:
    hash: str
    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    tasks: dict[str, TaskMeta]
    timers: dict[str, TimerMeta]
    end_statuses: dict[str, str]  # end event id -> concluded / terminated
    forms: dict[str, dict] = field(default_factory=dict)  # form name -> JSON Schema, as of this version

    def form(self, name: str) -> Form:
        """Form `name` as this version defines it (validator built once per bundle)."""
        cache = self.__dict__.setdefault("_form_cache", {})
        if name not in cache:
            if name not in self.forms:
                raise NotFound(f"form {name!r} is not part of process version {self.hash[:12]}")
            cache[name] = Form.from_schema(name, self.forms[name])
        return cache[name]

    def all_specs(self):
        yield self.spec
        yield from self.subprocess_specs.values()


def bundle_from_specs(spec_hash: str, process_id: str, spec, subprocess_specs: dict,
                      forms: dict[str, dict] | None = None) -> ProcessBundle:
    """Build a bundle from parsed (or restored) specs, reading task properties from the specs."""
    tasks: dict[str, TaskMeta] = {}
    timers: dict[str, TimerMeta] = {}
    end_statuses: dict[str, str] = {}
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            props = getattr(task_spec, "extensions", {}).get("properties", {}) or {}
            element_id = getattr(task_spec, "bpmn_id", None)
            if element_id is None:
                continue
            if isinstance(task_spec, UserTask):
                tasks[element_id] = TaskMeta.from_properties(element_id, task_spec.bpmn_name or "", props)
            elif isinstance(task_spec, EndEvent):
                end_statuses[element_id] = props.get("case_status", "concluded")
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                timers[element_id] = _timer_meta(element_id, props.get("timer_kind"), definition.expression)
    return ProcessBundle(spec_hash, process_id, spec, dict(subprocess_specs), tasks, timers, end_statuses,
                         dict(forms or {}))


def _timer_meta(element_id: str, kind: str | None, expression: str) -> TimerMeta:
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return TimerMeta(element_id, kind, None, None, None)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [a.value for a in node.args if isinstance(a, ast.Constant)]
        if node.func.id in DEADLINE_HELPERS and len(args) == 1:
            return TimerMeta(element_id, kind, node.func.id, str(args[0]), None)
        if node.func.id == "deadline" and len(args) == 2:
            return TimerMeta(element_id, kind, "deadline", None, Duration.parse(f"{args[0]} {args[1]}"))
    return TimerMeta(element_id, kind, None, None, None)
