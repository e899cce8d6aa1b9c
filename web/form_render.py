"""Task forms from their JSON Schema: fields to render, submitted text back to typed data, read-only display.

The engine validates against the schema; this module only turns HTML strings into JSON types so
that validation sees integers, numbers and booleans, and turns engine FieldErrors into messages
next to the fields. Only flat schemas are rendered (the forms in `forms/` are all flat).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from engine.errors import FieldError, FormInvalid

BOOLEAN_OPTIONS = (("true", "是"), ("false", "否"))
MAX_RADIO_OPTIONS = 4
_INTEGER = re.compile(r"^[+-]?\d+$")
# Stricter than float(): no "nan", "inf" or "1_000", which Python accepts and JSON cannot hold.
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FieldView:
    """One input as the template draws it. `value` is always the text to show in the input."""

    name: str
    label: str
    widget: str  # text / textarea / date / number / select / radio
    required: bool
    value: str = ""
    options: tuple[Option, ...] = ()
    error: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass
class Submission:
    """A parsed request: typed `data` for the engine, per-field `errors`, and the `raw` text to redisplay."""

    data: dict[str, Any]
    errors: dict[str, str]
    raw: dict[str, str]


def properties(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(schema.get("properties", {}))


def field_views(schema: Mapping[str, Any], values: Mapping[str, str] | None = None,
                errors: Mapping[str, str] | None = None) -> list[FieldView]:
    """The inputs of a form, filled with `values` (display text, see `display_values`)."""
    values, errors = values or {}, errors or {}
    required = set(schema.get("required", []))
    views = []
    for name, prop in properties(schema).items():
        types = _types(prop)
        options = _options(prop)
        attrs: dict[str, Any] = {}
        if options is not None:
            widget = "radio" if len(options) <= MAX_RADIO_OPTIONS else "select"
        elif "boolean" in types:
            widget, options = "radio", tuple(Option(v, label) for v, label in BOOLEAN_OPTIONS)
        elif "integer" in types or "number" in types:
            widget = "number"
            attrs["step"] = "1" if "integer" in types else "any"
            attrs["inputmode"] = "numeric" if "integer" in types else "decimal"
            for key in ("minimum", "maximum"):
                if key in prop:
                    attrs[key[:3]] = prop[key]
        elif "string" in types:
            if prop.get("format") == "date":
                widget = "date"
            else:
                widget = "textarea" if prop.get("x-widget") == "textarea" else "text"
                if "maxLength" in prop:
                    attrs["maxlength"] = prop["maxLength"]
                if "phone" in name:
                    attrs["inputmode"] = "tel"  # the digit keypad on the grid workers' phones
        else:
            continue  # nested objects and arrays have no widget yet
        views.append(FieldView(
            name=name, label=prop.get("title", name), widget=widget, required=name in required,
            value=values.get(name, ""), options=options or (), error=errors.get(name, ""), attrs=attrs,
            description=prop.get("description", ""),
        ))
    return views


def display_values(schema: Mapping[str, Any], data: Mapping[str, Any] | None) -> dict[str, str]:
    """Typed data (e.g. a task's form defaults) as input text, for the schema's fields only.

    Task defaults carry the whole case data; anything outside the form must not leak into it.
    """
    shown = {}
    for name in properties(schema):
        if data and name in data and data[name] is not None:
            shown[name] = _as_text(data[name])
    return shown


def parse_submission(schema: Mapping[str, Any], formdata: Mapping[str, str]) -> Submission:
    """Read the schema's fields from submitted form text; empty fields are left out."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    for name, prop in properties(schema).items():
        text = formdata.get(name)
        if text is None:
            continue
        raw[name] = text
        text = text.strip()
        if text == "":
            continue
        types = _types(prop)
        if "integer" in types and _options(prop) is None:
            number = unicodedata.normalize("NFKC", text)
            if _INTEGER.match(number):
                data[name] = int(number)
            else:
                errors[name] = "应为整数"
        elif "number" in types and _options(prop) is None:
            number = unicodedata.normalize("NFKC", text)
            if _NUMBER.match(number):
                data[name] = float(number) if any(c in number for c in ".eE") else int(number)
            else:
                errors[name] = "应为数字"
        elif "boolean" in types:
            if text in ("true", "false"):
                data[name] = text == "true"
            else:
                errors[name] = "请选择是或否"
        elif "integer" in types:
            # An enumeration of integers: the option values are the consts as text.
            data[name] = int(text) if _INTEGER.match(text) else text
        else:
            data[name] = text
    return Submission(data, errors, raw)


def split_errors(schema: Mapping[str, Any], field_errors: Iterable[FieldError],
                 parse_errors: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Engine errors as (message per field, messages about the form as a whole).

    A field that could not be parsed keeps its parse message: the engine, which never saw the
    value, would only call it missing.
    """
    props = properties(schema)
    per_field: dict[str, str] = dict(parse_errors or {})
    general: list[str] = []
    engine_messages: dict[str, list[str]] = {}
    for error in field_errors:
        top = error.field.split(".")[0] if error.field else ""
        if top in props:
            engine_messages.setdefault(top, []).append(error.message)
        else:
            general.append(f"{props.get(top, {}).get('title', top)}：{error.message}" if top else error.message)
    for name, messages in engine_messages.items():
        per_field.setdefault(name, "；".join(dict.fromkeys(messages)))
    return per_field, general


def validation_errors(form, data: Mapping[str, Any]) -> list[FieldError]:
    """What the engine would say about `data` for `form` (an engine.forms.Form)."""
    try:
        form.validate(data)
    except FormInvalid as exc:
        return exc.errors
    return []


def describe(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for showing submitted data read-only, in the form's field order."""
    props = properties(schema or {})
    ordered = [name for name in props if name in data] + [name for name in data if name not in props]
    rows = []
    for name in ordered:
        prop = props.get(name, {})
        value = data[name]
        if value is None or value == "":
            continue
        titles = {str(o.value): o.label for o in _options(prop) or ()}
        if isinstance(value, bool):
            text = "是" if value else "否"
        elif titles and _as_text(value) in titles:
            text = titles[_as_text(value)]
        elif isinstance(value, (dict, list)):
            text = _as_json(value)
        else:
            text = _as_text(value)
        rows.append((prop.get("title", name), text))
    return rows


def _types(prop: Mapping[str, Any]) -> list[str]:
    kind = prop.get("type", "string")
    return list(kind) if isinstance(kind, list) else [kind]


def _options(prop: Mapping[str, Any]) -> tuple[Option, ...] | None:
    choices = prop.get("oneOf") or prop.get("anyOf")
    if choices and all("const" in c for c in choices):
        return tuple(Option(_as_text(c["const"]), c.get("title", _as_text(c["const"]))) for c in choices)
    if "enum" in prop:
        return tuple(Option(_as_text(v), _as_text(v)) for v in prop["enum"])
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
