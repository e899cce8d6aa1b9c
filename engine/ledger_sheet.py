"""Reading a 台账 (case ledger) spreadsheet: one table of cases, a header row and one case per row.

An .xlsx workbook (the sheet named 台账, else the first sheet) or a CSV file (UTF-8 with or without
BOM, or the GB18030 that Excel writes in a Chinese locale). Cells keep the type the file gave them
(numbers, dates, text) so conversion can tell a date Excel stored from one a user typed; row numbers
are the ones a spreadsheet program shows (the header is row 1). Nothing here knows about forms or
the database.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .org_workbook import RowError
from .spreadsheet_text import UNKNOWN_ENCODING, decode_csv

LEDGER_SHEET = "台账"
SUFFIXES = (".xlsx", ".xlsm", ".csv")
IGNORED_COLUMN_PREFIXES = ("备注", "note", "remark", "#")


@dataclass(frozen=True)
class SheetRow:
    """One data row: its number in the spreadsheet and its non-empty cells by header text."""

    number: int
    cells: dict[str, Any]


@dataclass
class LedgerSheet:
    title: str
    headers: list[str] = field(default_factory=list)  # in file order, duplicates and blanks left out
    rows: list[SheetRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # problems with the file itself


def plain(text: Any) -> str:
    """A header or value for matching: no spaces, no required-field stars, no unit in brackets, lower
    case — so 涉及金额 matches the form's 涉及金额(元) and ＊申请人姓名 matches 申请人姓名."""
    text = "".join(ch for ch in str(text) if not ch.isspace() and ch not in "*＊").lower()
    for opening, closing in (("(", ")"), ("（", "）")):
        if text.endswith(closing) and opening in text:
            text = text[:text.rindex(opening)]
    return text


def read_ledger(source: Path | bytes, filename: str | None = None) -> LedgerSheet:
    """Read a ledger from a path, or from uploaded bytes whose `filename` suffix says the kind."""
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.is_file():
            return LedgerSheet("", errors=[RowError("", None, None, f"文件 {path} 不存在")])
        source, filename = path.read_bytes(), filename or path.name
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(source)
    if suffix == ".csv":
        return _read_csv(source, Path(filename).stem)
    return LedgerSheet("", errors=[RowError("", None, None, "不支持的文件类型：请使用 .xlsx 工作簿或 CSV 文件"
                                                            "（旧版 .xls 请在 Excel 中另存为 .xlsx）")])


def _read_xlsx(data: bytes) -> LedgerSheet:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several kinds for a file that is not a workbook
        return LedgerSheet("", errors=[RowError("", None, None, "无法读取文件：不是有效的 .xlsx 工作簿"
                                                                "（旧版 .xls 请另存为 .xlsx）")])
    try:
        named = [ws for ws in workbook.worksheets if plain(ws.title) == LEDGER_SHEET]
        worksheet = (named or workbook.worksheets)[0]
        return _read_table(worksheet.title, worksheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _read_csv(data: bytes, title: str) -> LedgerSheet:
    try:
        text = decode_csv(data)
    except UnicodeDecodeError:
        return LedgerSheet(title, errors=[RowError(title, None, None, UNKNOWN_ENCODING)])
    return _read_table(title, csv.reader(io.StringIO(text, newline="")))


def _read_table(title: str, rows) -> LedgerSheet:
    sheet = LedgerSheet(title)
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None or not any(_present(c) for c in header):
        sheet.errors.append(RowError(title, 1, None, "第一行应为列名（纠纷类别、登记地、事件名称……）"))
        return sheet
    positions: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, cell in enumerate(header):
        text = str(cell).strip() if _present(cell) else ""
        if not text or plain(text).startswith(IGNORED_COLUMN_PREFIXES):
            continue
        if plain(text) in seen:
            sheet.errors.append(RowError(title, 1, text, f"与“{seen[plain(text)]}”是同一列，重复了"))
            continue
        seen[plain(text)] = text
        positions[index] = text
        sheet.headers.append(text)
    for number, cells in enumerate(iterator, start=2):
        cells = list(cells)
        values = {name: _trimmed(cells[i]) for i, name in positions.items() if i < len(cells) and _present(cells[i])}
        if values:
            sheet.rows.append(SheetRow(number, values))
    return sheet


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value
