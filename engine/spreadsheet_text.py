"""Text out of spreadsheet files: decoding a CSV file and turning a cell back into what the user typed.

Shared by the organisation workbook and the 台账 (case ledger) readers, so both accept the same CSV
encodings and show a cell the same way.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

UNKNOWN_ENCODING = "无法识别文件编码，请另存为 UTF-8 编码的 CSV"


def decode_csv(data: bytes) -> str:
    """The text of a CSV file in UTF-8 (with or without BOM) or GB18030; UnicodeDecodeError if neither."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in a Chinese locale saves "CSV (逗号分隔)" as GBK, which GB18030 contains.
        return data.decode("gb18030")


def cell_text(value: Any) -> str:
    """A cell as the text the user typed: whole numbers without '.0', dates as YYYY-MM-DD, 是/否 for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
