"""The files of one county variant folder, read and checked on their own (engine/variants.py overlays them).

Each reader returns what it could use and every problem as `file:line element-id: message`; a
value is checked here as far as it can be without the category's BPMN.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateSyntaxError

from .calendar import Duration, DurationError
from .documents import TEMPLATES_DIR
from .forms import read_schema
from .locality_settings import SETTINGS, read_settings
from .problems import Problem

JURISDICTION_CODE = re.compile(r"^\d{6}(\d{3}){0,2}$")
VARIANT_KEYS = ("name", "risk_colours", "department_map", "calendar", "designer_four_eyes", *SETTINGS)
LIMIT_PROPERTIES = ("deadline", "warn_share", "escalate_after", "extension", "max_extensions")
DURATION_PROPERTIES = ("deadline", "escalate_after", "extension")


@dataclass(frozen=True)
class Limit:
    """One limit of limits.toml and the line it is on."""

    value: str
    line: int | None


def read_variant_toml(path: Path) -> tuple[dict | None, list[Problem]]:
    if not path.exists():
        return None, [Problem(str(path), None, None, 'missing variant.toml (at least name = "…区")')]
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        return None, [Problem(str(path), int(match.group(1)) if match else None, None, f"TOML syntax: {exc}")]
    problems = []

    def report(key: str, message: str) -> None:
        problems.append(Problem(str(path), _line_of(text, key), None, message))

    for key in data:
        if key not in VARIANT_KEYS:
            report(key, f"unknown key {key!r}; use {', '.join(VARIANT_KEYS)} (docs/localities.md)")
    if not isinstance(data.get("name"), str) or not data.get("name", "").strip():
        report("name", 'variant.toml needs name = "…" (the jurisdiction\'s name, e.g. 东河区)')
    settings: dict[str, Any] = {"name": str(data.get("name", "")).strip()}
    if "risk_colours" in data:
        colours = data["risk_colours"]
        if (not isinstance(colours, list) or len(colours) < 2
                or not all(isinstance(c, str) and len(c.strip()) == 1 for c in colours)):
            report("risk_colours", 'risk_colours is a list of at least two one-character colour names, '
                                   'highest risk first, e.g. ["红", "橙", "黄", "蓝"]')
        elif len(set(colours)) != len(colours):
            report("risk_colours", "risk_colours names a colour twice")
        else:
            settings["risk_colours"] = tuple(c.strip() for c in colours)
    if "department_map" in data:
        mapping = data["department_map"]
        if not isinstance(mapping, dict) or not all(isinstance(v, str) and v.strip() for v in mapping.values()):
            report("department_map", '[department_map] maps a department name as the routing gives it to the local '
                                     'name: "村人民调解委员会" = "东河区某村调委会"')
        else:
            settings["department_map"] = {k: v.strip() for k, v in mapping.items()}
    if "designer_four_eyes" in data:
        # Only a TOML boolean: "yes" or 1 would silently mean something a county did not decide.
        if not isinstance(data["designer_four_eyes"], bool):
            report("designer_four_eyes", f"designer_four_eyes = {data['designer_four_eyes']!r}: write true (a second "
                                         "流程设计员 approves before a draft is published) or false")
        else:
            settings["designer_four_eyes"] = data["designer_four_eyes"]
    if "calendar" in data:
        rulings = data["calendar"]
        table: dict[date, bool] = {}
        if not isinstance(rulings, dict):
            report("calendar", '[calendar] holds lines like "2026-10-09" = "work" (or "rest")')
        else:
            for key, value in rulings.items():
                try:
                    day = date.fromisoformat(str(key))
                except ValueError:
                    report(str(key), f"calendar: {key!r} is not a date (YYYY-MM-DD)")
                    continue
                if value not in ("work", "rest"):
                    report(str(key), f'calendar: {key} = {value!r}; use "work" or "rest"')
                    continue
                table[day] = value == "work"
            settings["calendar"] = table
    settings["locality"] = read_settings(data, report)
    return (None if problems else settings), problems


def read_forms(folder: Path) -> tuple[dict[str, dict], list[Problem]]:
    forms, problems = {}, []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        schema, problem = read_schema(path)
        if problem is not None:
            problems.append(problem)
            continue
        forms[path.stem] = schema
    return forms, problems


def check_templates(folder: Path) -> list[Problem]:
    problems = []
    env = Environment()
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        if not (TEMPLATES_DIR / path.name).exists():
            problems.append(Problem(str(path), None, None,
                                    "overrides no template of documents/templates/ (check the file name)", "warning"))
        try:
            env.parse(path.read_text(encoding="utf-8"))
        except TemplateSyntaxError as exc:
            problems.append(Problem(str(path), exc.lineno, None, f"template syntax: {exc.message}"))
    return problems


def read_limits(path: Path) -> tuple[dict[str, dict[str, Limit]], list[Problem]]:
    """`[tasks.<element id>]` tables of limit properties; values are checked here as far as they can
    be without the BPMN (the element itself is checked when the variant is resolved)."""
    if not path.exists():
        return {}, []
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        return {}, [Problem(str(path), int(match.group(1)) if match else None, None, f"TOML syntax: {exc}")]
    problems: list[Problem] = []
    for key in data:
        if key != "tasks":
            problems.append(Problem(str(path), _line_of(text, key), None,
                                    f"unknown key {key!r}; limits.toml holds [tasks.<element id>] tables"))
    tasks = data.get("tasks", {})
    limits: dict[str, dict[str, Limit]] = {}
    for element_id, props in tasks.items() if isinstance(tasks, dict) else []:
        header = _table_line(text, element_id)
        if not isinstance(props, dict):
            problems.append(Problem(str(path), header, element_id, "expected a table [tasks.<element id>]"))
            continue
        entry: dict[str, Limit] = {}
        for name, value in props.items():
            line = _key_line(text, header, name)
            message = _limit_value_problem(name, value)
            if message:
                problems.append(Problem(str(path), line, element_id, message))
                continue
            entry[name] = Limit(str(value), line)
        limits[element_id] = entry
    return limits, problems


def _limit_value_problem(name: str, value: Any) -> str | None:
    if name not in LIMIT_PROPERTIES:
        return f"{name!r} is not a limit; use one of {', '.join(LIMIT_PROPERTIES)}"
    if isinstance(value, bool):
        return f"{name} = {value!r}: not a {name}"
    if name in DURATION_PROPERTIES:
        if not isinstance(value, str):
            return f'{name} is written as text, e.g. {name} = "15 工作日"'
        try:
            Duration.parse(value)
        except DurationError as exc:
            return f"{name}: {exc}"
    elif name == "warn_share":
        if not isinstance(value, (int, float)) or not 0 < value < 1:
            return f"warn_share {value!r} must be a number between 0 and 1, e.g. 0.7"
    elif name == "max_extensions":
        if not isinstance(value, int) or value < 0:
            return f"max_extensions {value!r} must be a whole number >= 0"
    return None


# -- lines in TOML files -------------------------------------------------------------------------

def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf'^\s*(\[{{1,2}}\s*)?"?{re.escape(key)}"?\s*[=\]]')
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _table_line(text: str, element_id: str) -> int | None:
    pattern = re.compile(rf'^\s*\[\s*tasks\s*\.\s*"?{re.escape(element_id)}"?\s*\]')
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _key_line(text: str, header: int | None, key: str) -> int | None:
    lines = text.splitlines()
    pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
    for number in range(header or 1, len(lines) + 1):
        line = lines[number - 1]
        if number > (header or 0) and line.lstrip().startswith("["):
            break
        if pattern.match(line):
            return number
    return header
