"""User-task forms: one JSON Schema per form in `forms/`, validated on the server."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from .errors import FieldError, FormInvalid, NotFound
from .problems import Problem


@dataclass(frozen=True)
class Form:
    name: str
    schema: dict[str, Any]
    validator: Draft202012Validator

    @property
    def title(self) -> str:
        return self.schema.get("title", self.name)

    @classmethod
    def from_schema(cls, name: str, schema: dict[str, Any]) -> "Form":
        return cls(name, schema, Draft202012Validator(schema, format_checker=FormatChecker()))

    def validate(self, data: Any) -> Any:
        """Return `data` if it satisfies the form, else raise FormInvalid with one error per field."""
        errors = [
            FieldError(_field_of(err), _message_of(err, self.schema))
            for err in sorted(self.validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        ]
        if errors:
            raise FormInvalid(self.name, errors)
        return data


class FormLibrary:
    """Loads every `*.json` schema of a folder; a broken schema is reported, not loaded."""

    def __init__(self, forms_dir: Path):
        self.forms_dir = Path(forms_dir)
        self._forms: dict[str, Form] = {}
        self.problems: list[Problem] = []
        self.reload()

    def reload(self) -> list[Problem]:
        """Read the folder again; returns the problems found."""
        forms: dict[str, Form] = {}
        problems: list[Problem] = []
        for path in sorted(self.forms_dir.glob("*.json")):
            schema, problem = read_schema(path)
            if problem is not None:
                problems.append(problem)
                continue
            forms[path.stem] = Form.from_schema(path.stem, schema)
        self._forms, self.problems = forms, problems
        return problems

    def names(self) -> list[str]:
        return sorted(self._forms)

    def __contains__(self, name: str) -> bool:
        return name in self._forms

    def get(self, name: str) -> Form:
        """The form called `name`; NotFound if it is missing or broken."""
        try:
            return self._forms[name]
        except KeyError:
            raise NotFound(f"form {name!r} does not exist in {self.forms_dir}") from None

    def validate(self, name: str, data: Any) -> dict[str, Any]:
        """Return `data` if it satisfies form `name`, else raise FormInvalid with one error per field."""
        return self.get(name).validate(data)


_CHECKED_SCHEMAS: dict[str, str] = {}  # text -> already valid; checking a schema costs ~8 ms


def read_schema(path: Path) -> tuple[dict[str, Any] | None, Problem | None]:
    """A form's JSON Schema from `path`, or the problem that keeps it from loading."""
    try:
        text = path.read_text(encoding="utf-8")
        schema = json.loads(text)
        if text not in _CHECKED_SCHEMAS:
            Draft202012Validator.check_schema(schema)
            _CHECKED_SCHEMAS[text] = path.name
    except json.JSONDecodeError as exc:
        return None, Problem(str(path), exc.lineno, None, f"JSON syntax: {exc.msg}")
    except SchemaError as exc:
        pointer = "/".join(str(p) for p in exc.path) or "(root)"
        return None, Problem(str(path), None, pointer, f"not a valid JSON Schema: {exc.message}")
    return schema, None


def _field_of(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        # jsonschema reports a missing property at its parent; name the property itself.
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return ".".join(path)


def _message_of(error, schema: dict[str, Any]) -> str:
    """A message in Chinese for the common cases, with the field's title."""
    kind = error.validator
    if kind == "required":
        return "必填"
    if kind == "type":
        names = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "object": "对象", "array": "列表"}
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return "应为" + "或".join(names.get(t, t) for t in expected)
    if kind == "maxLength":
        return f"不能超过 {error.validator_value} 个字符"
    if kind == "minLength":
        return f"至少 {error.validator_value} 个字符" if error.validator_value > 1 else "必填"
    if kind == "minimum":
        return f"不能小于 {error.validator_value}"
    if kind == "maximum":
        return f"不能大于 {error.validator_value}"
    if kind == "pattern":
        return "格式不正确"
    if kind == "format":
        return {"date": "应为日期（YYYY-MM-DD）", "date-time": "应为日期时间"}.get(error.validator_value, "格式不正确")
    if kind in ("oneOf", "enum", "const"):
        return "不是可选的值"
    if kind == "additionalProperties":
        return "包含表单之外的字段：" + error.message.split("(")[-1].rstrip(")")
    return error.message
