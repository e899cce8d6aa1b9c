"""Forms held by a process draft (表单草稿): "forms/<name>.json" files next to its BPMN and DMN.

A version's bundle stores the schemas of the forms its category uses, so a form edited in a draft
belongs to the version that draft publishes and to nothing else: other categories, and cases
already running, keep the schema they have. A draft holds a form only once someone edits it;
until then the category uses the form as forms/ (or the county's variants/<code>/forms/) has it.

This module names, writes and checks those files; engine/draft_files.py puts them where the
temporary registry reads forms, so their problems are the registry's own (`fengqiao check`).
"""
from __future__ import annotations

import json
import re
import shutil
from json.decoder import scanstring
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from . import lint
from .problems import Problem

FORMS_PREFIX = "forms/"
FORM_NAME = re.compile(r"[a-z][a-z0-9_]*")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_WHITESPACE = " \t\n\r"


def form_file(name: str) -> str:
    """The draft file name of form `name`: "forms/<name>.json"; ValueError for a name forms/ cannot hold."""
    if not FORM_NAME.fullmatch(name or ""):
        raise ValueError(f"form name {name!r}: use lower-case letters, digits and _, starting with a letter, "
                         "e.g. mediate_record")
    return f"{FORMS_PREFIX}{name}.json"


def is_form_file(file_name: str) -> bool:
    """Whether `file_name` names a form of a draft (forms/<name>.json with a valid name)."""
    return form_name_of(file_name) is not None


def form_name_of(file_name: str) -> str | None:
    """The form name of a draft file "forms/<name>.json", or None for any other file name."""
    match = re.fullmatch(r"forms/([a-z][a-z0-9_]*)\.json", file_name or "")
    return match.group(1) if match else None


def draft_forms(files: Mapping[str, str]) -> dict[str, str]:
    """The draft's own forms: form name -> JSON text."""
    return {name: text for file, text in sorted(files.items()) if (name := form_name_of(file)) is not None}


def minimal_schema(title: str) -> dict[str, Any]:
    """What a new form starts from: a flat object with no fields yet, like every form in forms/."""
    return {"$schema": SCHEMA_DIALECT, "title": title, "type": "object", "properties": {}, "required": [],
            "additionalProperties": False}


def schema_text(schema: Mapping[str, Any]) -> str:
    """A schema as forms/ writes them: two-space indent, Chinese kept readable."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def write_forms(files: Mapping[str, str], folder: Path, base: Path | None = None) -> dict[str, str]:
    """Write the draft's forms into `folder` (a FormLibrary's folder or a variant's forms/), first
    copying `base`'s schemas when given. Returns written path (resolved) -> draft file name."""
    folder.mkdir(parents=True, exist_ok=True)
    if base is not None and base.is_dir():
        for path in base.glob("*.json"):
            shutil.copy2(path, folder / path.name)
    written = {}
    for name, text in draft_forms(files).items():
        path = folder / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        written[str(path.resolve())] = form_file(name)
    return written


def check_schema_text(file_name: str, text: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The schema in `text`, or the one problem that keeps it from being a form — with the line
    and the JSON pointer of the place, worded like `fengqiao check` words form problems."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, Problem(file_name, exc.lineno, None, f"JSON syntax: {exc.msg} (column {exc.colno})")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = list(exc.absolute_path)
        return None, Problem(file_name, pointer_line(text, path), _pointer(path),
                             f"not a valid JSON Schema: {exc.message}")
    problem = _field_problem(file_name, text, schema)
    return (schema, None) if problem is None else (None, problem)


def located(problem: Problem, file_name: str, text: str) -> Problem:
    """A form problem the registry reported on the temporary copy, named by the draft's file name
    and given the line of its JSON pointer when the registry had none."""
    line = problem.line
    if line is None and problem.element_id is not None:
        parts = [] if problem.element_id == "(root)" else problem.element_id.split("/")
        line = pointer_line(text, [int(p) if p.isdigit() else p for p in parts])
    return Problem(file_name, line, problem.element_id, problem.message, problem.severity)


def renderable_problems(files: Mapping[str, str]) -> list[Problem]:
    """What the registry accepts but a task page cannot draw: a form that is not an object of fields."""
    problems = []
    for name, text in draft_forms(files).items():
        try:
            schema = json.loads(text)
        except json.JSONDecodeError:
            continue  # the registry reports the syntax error
        problem = _field_problem(form_file(name), text, schema)
        if problem is not None:
            problems.append(problem)
    return problems


def used_forms(files: Mapping[str, str], intake_form: str | None,
               library_dir: Path | None = None) -> dict[str, list[tuple[str, str]]]:
    """Forms the draft's category uses: form name -> [(element id, task name)] of the user tasks
    naming it in the draft's BPMN and in the library/ processes it calls (they are part of its
    version too), in that order; the intake form with no tasks."""
    used: dict[str, list[tuple[str, str]]] = {}
    if intake_form:
        used[intake_form] = []
    pending = []
    for file, text in sorted(files.items()):
        if file.endswith(".bpmn"):
            try:
                pending.append(etree.fromstring(text.encode("utf-8")))
            except etree.XMLSyntaxError:
                continue  # the lint reports it; its forms cannot be read
    own = {pid for tree in pending for pid in lint.defined_process_ids(tree)}
    library = _library(library_dir)
    seen: set[Path] = set()
    while pending:
        tree = pending.pop(0)
        for task in tree.iter(lint.BPMN + "userTask"):
            name = lint.properties(task).get("form")
            if name:
                used.setdefault(name, []).append((task.get("id") or "", task.get("name") or ""))
        for _, called in lint.called_elements(tree):
            path = library.get(called) if called not in own else None
            if path is not None and path not in seen:
                seen.add(path)
                called_tree, _ = lint.parse_xml(path)
                if called_tree is not None:
                    pending.append(called_tree.getroot())
    return used


def unused_form_warnings(files: Mapping[str, str], intake_form: str | None,
                         library_dir: Path | None = None) -> list[Problem]:
    """A draft's form no task uses is published with nothing: say so while it is still a draft."""
    used = used_forms(files, intake_form, library_dir)
    return [Problem(form_file(name), None, None, f"form {name!r} is not used by any user task of this "
                    "category nor as its intake_form; set it as a task's form or remove it", "warning")
            for name in draft_forms(files) if name not in used]


def pointer_line(text: str, path: list[Any]) -> int | None:
    """The line of `text` where the value at `path` (keys and indexes) is written: its key's line
    for an object member. None when the text does not parse that far."""
    try:
        position = _skip(text, 0)
        line_at = position
        for part in path:
            position, line_at = _step(text, position, part)
    except (ValueError, IndexError, json.JSONDecodeError):
        return None
    return text.count("\n", 0, line_at) + 1


# -- helpers -------------------------------------------------------------------------------------

def _library(folder: Path | None) -> dict[str, Path]:
    """Process id -> the library/ file defining it."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.bpmn")) if folder is not None and folder.is_dir() else []:
        tree, _ = lint.parse_xml(path)
        for process_id in lint.defined_process_ids(tree) if tree is not None else ():
            found.setdefault(process_id, path)
    return found


def _pointer(path: list[Any]) -> str:
    # The same form `fengqiao check` prints (engine/forms.py read_schema).
    return "/".join(str(p) for p in path) or "(root)"


def _field_problem(file_name: str, text: str, schema: Any) -> Problem | None:
    """web/form_render.py draws a flat object whose properties are objects; anything else breaks the task page."""
    if not isinstance(schema, dict):
        return Problem(file_name, 1, "(root)",
                       "a form is a JSON object such as {\"type\": \"object\", \"properties\": {…}}")
    fields = schema.get("properties", {})
    for key, prop in fields.items() if isinstance(fields, dict) else ():
        if not isinstance(prop, dict):
            return Problem(file_name, pointer_line(text, ["properties", key]), f"properties/{key}",
                           "a form field is a JSON object such as {\"type\": \"string\", \"title\": \"…\"}")
    return None


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def _step(text: str, position: int, part: Any) -> tuple[int, int]:
    """From the value starting at `position` to its member or item `part`: (value start, line anchor)."""
    decoder = json.JSONDecoder()
    opening = text[position]
    if opening == "{":
        position = _skip(text, position + 1)
        while text[position] != "}":
            key_at = position
            key, position = scanstring(text, position + 1)
            position = _skip(text, position)
            if text[position] != ":":
                raise ValueError("expected ':'")
            position = _skip(text, position + 1)
            if key == str(part):
                return position, key_at
            position = _skip(text, decoder.raw_decode(text, position)[1])
            if text[position] == ",":
                position = _skip(text, position + 1)
        raise ValueError(f"no member {part!r}")
    if opening == "[" and isinstance(part, int):
        position = _skip(text, position + 1)
        for _ in range(part):
            position = _skip(text, decoder.raw_decode(text, position)[1])
            if text[position] != ",":
                raise ValueError(f"no item {part}")
            position = _skip(text, position + 1)
        return position, position
    raise ValueError(f"cannot step into {opening!r} with {part!r}")
