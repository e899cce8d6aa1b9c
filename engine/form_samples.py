"""Sample answers for a form: the valid data a simulation submits when nobody said what to type,
and the values of the fields that can steer a process (choices and yes/no questions).

Only what the JSON Schema itself says is used: a field's `default`, its first choice, its bounds,
its length limits, its date format, a string matching its pattern. The result is validated by the
caller against the same form, so a schema this cannot satisfy shows up as a field error rather than
as a silently wrong sample.
"""
from __future__ import annotations

import re._parser as regex_parser
from datetime import datetime
from typing import Any, Iterable

from .calendar import SHANGHAI

SAMPLE_TEXT = "模拟填写"
MAX_REPEAT_SAMPLE = 50  # `a+` or `.*` in a pattern: repeat at most this often (the minimum is usually 0 or 1)


def sample_answer(schema: dict[str, Any], now: datetime, wanted: Iterable[str] = ()) -> dict[str, Any]:
    """Valid-looking data for an object schema: every required field, every choice or yes/no field,
    and the fields named in `wanted` (those the process reads)."""
    properties = schema.get("properties") or {}
    keep = _required_anywhere(schema) | set(wanted)
    answer = {}
    for name, field in properties.items():
        if not isinstance(field, dict):
            continue
        if name in keep or choices(field):
            value = sample_value(field, now, name)
            if value is not None:
                answer[name] = value
    return answer


def _required_anywhere(schema: dict[str, Any]) -> set[str]:
    """Required fields, counting those only an if/then, else or allOf branch requires: filling a
    field the branch does not ask for is still valid, leaving out one it does is not."""
    names = set(schema.get("required") or [])
    for key in ("then", "else"):
        if isinstance(schema.get(key), dict):
            names |= set(schema[key].get("required") or [])
    for branch in schema.get("allOf") or []:
        if isinstance(branch, dict):
            names |= _required_anywhere(branch)
    return names


def choices(field: dict[str, Any]) -> list[Any]:
    """The values a choice field offers (enum, oneOf/anyOf of consts, a boolean's true and false);
    empty for any other field."""
    if isinstance(field.get("enum"), list):
        return list(field["enum"])
    for key in ("oneOf", "anyOf"):
        options = field.get(key)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return [o["const"] for o in options]
    if "const" in field:
        return [field["const"]]
    if _types(field) == ["boolean"]:
        return [True, False]
    return []


def choice_title(field: dict[str, Any], value: Any) -> str:
    """How the form shows `value` of a choice field (the option's title), e.g. 调解成功 for success."""
    for key in ("oneOf", "anyOf"):
        for option in field.get(key) or []:
            if isinstance(option, dict) and option.get("const") == value and option.get("title"):
                return str(option["title"])
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)


def sample_value(field: dict[str, Any], now: datetime, name: str = "") -> Any:
    """One value satisfying `field`, or None when the schema asks for something this cannot make."""
    if "default" in field:
        return field["default"]
    options = choices(field)
    if options:
        return options[0]
    kind = (_types(field) or ["string"])[0]
    if kind == "string":
        return _sample_string(field, now, name)
    if kind in ("integer", "number"):
        return _sample_number(field, kind)
    if kind == "array":
        count = int(field.get("minItems") or 0)
        item = sample_value(field.get("items") or {}, now, name) if count else None
        return [item] * count if count and item is not None else []
    if kind == "object":
        return sample_answer(field, now)
    if kind == "null":
        return None
    return None


def _sample_string(field: dict[str, Any], now: datetime, name: str) -> str | None:
    local = now.astimezone(SHANGHAI)
    formats = {"date": local.date().isoformat(), "date-time": local.isoformat(timespec="seconds"),
               "time": local.time().isoformat(timespec="seconds"), "email": "simulation@example.cn",
               "uri": "https://example.cn/simulation"}
    if field.get("format") in formats:
        return formats[field["format"]]
    if field.get("pattern"):
        return pattern_sample(field["pattern"])
    text = f"{SAMPLE_TEXT}：{field.get('title') or name}".rstrip("：")
    low, high = int(field.get("minLength") or 0), field.get("maxLength")
    if len(text) < low:
        text += "。" * (low - len(text))
    if isinstance(high, int):
        text = text[:high]
    return text


def _sample_number(field: dict[str, Any], kind: str) -> int | float:
    value = 0
    if "minimum" in field:
        value = field["minimum"]
    elif "exclusiveMinimum" in field:
        value = field["exclusiveMinimum"] + 1
    elif "maximum" in field and field["maximum"] < 0:
        value = field["maximum"]
    return int(value) if kind == "integer" and float(value).is_integer() else value


def _types(field: dict[str, Any]) -> list[str]:
    kind = field.get("type")
    if isinstance(kind, str):
        return [kind]
    return [t for t in kind if t != "null"] if isinstance(kind, list) else []


# -- a string matching a pattern ------------------------------------------------------------------

def pattern_sample(pattern: str) -> str | None:
    """The shortest plain string matching `pattern` (^1[3-9][0-9]{9}$ gives 13000000000), built from
    Python's own parse of the expression; None for constructs it does not know (back-references,
    look-arounds), and the form's validation then names the field."""
    try:
        return _generate(regex_parser.parse(pattern))
    except (re_error, _Unsupported, RecursionError):
        return None


class _Unsupported(Exception):
    pass


re_error = regex_parser.error


def _generate(items) -> str:
    parts = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            parts.append(chr(arg))
        elif name == "NOT_LITERAL":
            parts.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            parts.append("a")
        elif name == "IN":
            parts.append(_from_class(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, inner = arg
            parts.append(_generate(inner) * min(low, MAX_REPEAT_SAMPLE))
        elif name == "SUBPATTERN":
            parts.append(_generate(arg[-1]))
        elif name == "ATOMIC_GROUP":
            parts.append(_generate(arg))
        elif name == "BRANCH":
            parts.append(_generate(arg[1][0]))
        elif name == "AT":
            continue
        else:
            raise _Unsupported(name)
    return "".join(parts)


def _from_class(items) -> str:
    if items and str(items[0][0]) == "NEGATE":
        excluded = {chr(arg) for op, arg in items[1:] if str(op) == "LITERAL"}
        return next(ch for ch in "a0A_" if ch not in excluded)
    op, arg = items[0]
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "RANGE":
        return chr(arg[0])
    if name == "CATEGORY":
        return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a"}.get(str(arg), "a")
    raise _Unsupported(name)
