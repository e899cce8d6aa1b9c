"""The answers a draft simulation gives: what each task is completed with, and its alternatives.

A task is completed with, field by field, the first of: the designer's answer for its element id
(or its form name); what the form shows the first time the task comes up — the process's own
proposal, e.g. the 承办层级 the routing table chose, as a user accepting it would submit it (where
the form accepts it); a sample valid against the form (engine/form_samples.py). Repeated rounds of
a task do not take what the form shows, which is the previous round's answer: that would keep a
继续调解 loop going.

Alternatives change one choice field (a list of options or a yes/no question) that the process
reads — a gateway condition, a script, a DMN input, the engine's handling level and department —
to each of its other values. A field nothing reads cannot change the path, so it is not varied.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from .errors import EngineError, FormInvalid
from .form_samples import choice_title, choices, sample_answer
from .forms import Form
from .levels import LEVEL_FIELD
from .models import HumanTask

# Case data the engine itself acts on, so an answer setting it can change who gets the next tasks.
ENGINE_FIELDS = frozenset({LEVEL_FIELD, "department"})


class SimulationInputError(EngineError):
    """Bad input to a simulation (an answer not valid for its form, a start without a time zone …);
    `field` names it, e.g. answers.accept.accepted or intake.applicant_phone."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Option:
    """One way to go on at a decision: submit `data`, or (data None) let the clock run."""

    choice: str  # what differs from the default answer, "" for the default itself
    data: dict[str, Any] | None


class AnswerBook:
    """Answers for the user tasks of one process version (`bundle`)."""

    def __init__(self, bundle, referenced: set[str], given: Mapping[str, Any], start: datetime):
        self.bundle = bundle
        self.referenced = referenced
        self.steering = referenced | ENGINE_FIELDS | {m.label_field for m in bundle.tasks.values() if m.label_field}
        self.given = dict(given)
        self.start = start

    def defaults(self) -> dict[str, dict[str, Any]]:
        """The generated answer of every user task, by element id: what a designer may start from."""
        return {meta.element_id: sample_answer(self.bundle.form(meta.form).schema, self.start, self.referenced)
                for meta in self.bundle.tasks.values() if meta.form in self.bundle.forms}

    def check(self) -> None:
        """Every given answer names a user task (element id or form name) and is valid for its form;
        SimulationInputError naming the field otherwise."""
        for key, answer in self.given.items():
            if not isinstance(answer, dict):
                raise SimulationInputError(f"answers.{key}", "应为 {字段: 值}")
            metas = [m for m in self.bundle.tasks.values() if key in (m.element_id, m.form)]
            if not metas or metas[0].form not in self.bundle.forms:
                raise SimulationInputError(f"answers.{key}", f"“{key}”不是本草稿人工环节的编号或表单名")
            form = self.bundle.form(metas[0].form)
            validate(form, {**sample_answer(form.schema, self.start, self.referenced), **answer}, f"answers.{key}")

    def intake(self, form: Form, given: Mapping[str, Any]) -> dict[str, Any]:
        """The registration data of the sample cases: the designer's fields over a generated sample."""
        data = {**sample_answer(form.schema, self.start, self.referenced), **given}
        validate(form, data, "intake")
        return data

    def options(self, row: HumanTask, first_time: bool, now: datetime) -> list[Option]:
        """The default answer to ready task `row`, then each steering choice set to another value."""
        form = self.bundle.form(row.form)
        properties = form.schema.get("properties") or {}
        data = sample_answer(form.schema, now, self.referenced)
        if first_time:
            shown = {k: v for k, v in (row.form_defaults or {}).items() if k in properties}
            # Case data of the same name set by an earlier form may not be a value this form offers.
            wrong = {str(e.absolute_path[0]) for e in form.validator.iter_errors({**data, **shown}) if e.absolute_path}
            data.update({k: v for k, v in shown.items() if k not in wrong})
        data.update(self.given.get(row.element_id) or self.given.get(row.form) or {})
        found = [Option("", data)]
        for name, field in properties.items():
            if name in self.steering and isinstance(field, dict):
                found += [Option(f"{field.get('title') or name} = {choice_title(field, value)}", {**data, name: value})
                          for value in choices(field) if value != data.get(name)]
        return found


def validate(form: Form, data: dict[str, Any], prefix: str) -> None:
    """SimulationInputError naming the first invalid field (`prefix`.field) and listing them all."""
    try:
        form.validate(data)
    except FormInvalid as exc:
        first = exc.errors[0]
        raise SimulationInputError(f"{prefix}.{first.field}" if first.field else prefix,
                                   f"表单「{form.title}」：" + "；".join(str(e) for e in exc.errors)) from None
