"""Spreadsheet cells to the JSON types an intake form's schema asks for.

A cell arrives as Excel stored it or as CSV text: a date may be a datetime, a serial number or
"2026年3月1日"; a phone number may have become the float 13800138000.0; a choice may be written as
its title (群众来访) or its code (walk_in). `convert` returns the value the form validates, or raises
CellError with a message the clerk can act on. It does not check the schema's limits (length,
pattern, minimum): the form itself does that, with the same messages as the registration page.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from .ledger_sheet import plain
from .spreadsheet_text import cell_text

_INTEGER = re.compile(r"^[+-]?\d+$")
# Stricter than float(): no "nan", "inf" or "1_000", which Python accepts and JSON cannot hold.
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Excel counts days from 1899-12-30 (it believes 1900 was a leap year); 1 Jan 1990 .. 31 Dec 2099.
_EXCEL_EPOCH = date(1899, 12, 30)
_SERIALS = range(32874, 73051)
_EXACT_FLOAT_DIGITS = 15  # a float holds 15 significant decimal digits exactly
TRUE_WORDS, FALSE_WORDS = {"是", "true", "1", "yes", "y", "有"}, {"否", "false", "0", "no", "n", "无"}


class CellError(ValueError):
    """A cell that cannot become the field's type; the message says what to write instead."""


def convert(value: Any, prop: dict[str, Any]) -> Any:
    """The cell `value` as field `prop` of a JSON Schema expects it."""
    choices = options(prop)
    if choices:
        return _choice(value, choices)
    types = prop.get("type")
    types = set(types) if isinstance(types, list) else {types}
    if "boolean" in types:
        return _boolean(value)
    if "integer" in types:
        return _integer(value)
    if "number" in types:
        return _number(value)
    if prop.get("format") == "date":
        return _date(value).isoformat()
    return _text(value)


def options(prop: dict[str, Any]) -> list[tuple[Any, str]]:
    """(code, title) of a field's choices (oneOf of consts, or an enum); empty if it has none."""
    if "oneOf" in prop and all("const" in o for o in prop["oneOf"]):
        return [(o["const"], o.get("title", str(o["const"]))) for o in prop["oneOf"]]
    if "enum" in prop:
        return [(v, str(v)) for v in prop["enum"]]
    return []


def _choice(value: Any, choices: list[tuple[Any, str]]) -> Any:
    key = plain(_text(value))
    for code, title in choices:
        if key in (plain(title), plain(str(code))):
            return code
    raise CellError("不是可选的值，应为：" + "、".join(title for _, title in choices))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = plain(_text(value))
    if key in TRUE_WORDS or key in FALSE_WORDS:
        return key in TRUE_WORDS
    raise CellError("应填“是”或“否”")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("应为整数")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError("应为整数")
    text = _numeric_text(value)
    if _INTEGER.match(text):
        return int(text)
    raise CellError("应为整数")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise CellError("应为数字")
    if isinstance(value, (int, float)):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    text = _numeric_text(value).removesuffix("元")
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    raise CellError("应为数字")


def _numeric_text(value: Any) -> str:
    # Full-width digits from a Chinese input method, thousands separators from Excel's display.
    return unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if int(value) in _SERIALS:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        text = str(int(value)) if float(value).is_integer() else str(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
    text = text.split(" ")[0].split("T")[0]  # "2026-03-01 00:00:00" as a CSV saved from Excel shows it
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError("应为日期，如 2026-03-01")


def _text(value: Any) -> str:
    """A cell as the text the user typed, refusing the long numbers Excel has already cut short."""
    if isinstance(value, float) and value.is_integer() and len(str(int(value))) > _EXACT_FLOAT_DIGITS:
        raise _lost_digits()
    text = cell_text(value)  # a phone number Excel turned into 13800138000.0 gets its digits back
    if _SCIENTIFIC.match(text):
        raise _lost_digits()
    return text


def _lost_digits() -> CellError:
    # An 18-digit 证件号码 typed into a General cell: Excel keeps 15 digits and shows 1.50207E+17.
    return CellError("Excel 已把这个长数字改成了科学计数法，末尾几位已丢失：请把该列设置为“文本”格式后重新填写")
