"""The 台账 template: a 台账 sheet with every column an import understands and one example row,
and a 说明 sheet listing the columns, the 纠纷类别 with their own columns, and the 来源渠道.

The columns come from the intake forms as the files in `forms/` define them: 纠纷类别 and 登记地,
the fields every category asks for, then each category's own fields (用人单位 …). A county's own
version may ask for more; those columns can be added by their title.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from .ledger_cells import options
from .ledger_import import CATEGORY_COLUMN, DEFAULT_CHANNEL, PLACE_COLUMN
from .registry import ProcessRegistry

BASE_FORM = "intake"
EXAMPLE_PLACE = "150207"  # 九原区, the demo county
EXAMPLE = {
    "title": "楼上漏水纠纷",
    "summary": "楼上住户卫生间漏水，楼下天花板受损，双方协商未果。",
    "occurred_on": date(2026, 2, 20),
    "address": "九原区沙河街道兴胜社区3号楼",
    "channel": "群众来访",
    "people_count": 2,
    "amount": 3500,
    "applicant_name": "刘桂兰",
    "applicant_id_number": "150207196505121234",
    "applicant_phone": "13800138000",
    "respondent_name": "陈建国",
    "respondent_phone": "13912345678",
}
TEXT_HINTS = ("phone", "id_number", "number")  # kept as text so Excel keeps every digit
ROWS_FORMATTED = 1000


def columns(registry: ProcessRegistry) -> list[tuple[str, str, dict[str, Any], bool]]:
    """(header, field code, schema property, required by every category) for each template column
    after 纠纷类别 and 登记地; a title several categories share appears once."""
    forms = registry.forms
    base = forms.get(BASE_FORM).schema if BASE_FORM in forms else {"properties": {}, "required": []}
    required = set(base.get("required", [])) - {"channel"}  # 来源渠道 defaults to 群众来访
    result, seen = [], set()
    schemas = [base] + [forms.get(c.intake_form).schema for c in _categories(registry) if c.intake_form in forms]
    for schema in schemas:
        for name, prop in schema.get("properties", {}).items():
            title = prop.get("title", name)
            if title not in seen:
                seen.add(title)
                result.append((title, name, prop, name in required and schema is base))
    return result


def template_xlsx(registry: ProcessRegistry, place: str = EXAMPLE_PLACE) -> bytes:
    """The template workbook as bytes, for a download; the example row is registered at `place`."""
    buffer = io.BytesIO()
    write_template(buffer, registry, place)
    return buffer.getvalue()


def write_template(target: Path | io.BytesIO, registry: ProcessRegistry, place: str = EXAMPLE_PLACE) -> None:
    """Write the template workbook to a path or a binary stream."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "台账"
    fields = columns(registry)
    category = _example_category(registry)
    headers = [CATEGORY_COLUMN, PLACE_COLUMN] + [title for title, *_ in fields]
    sheet.append(headers)
    sheet.append([category.name if category else "", place] + [EXAMPLE.get(name) for _, name, _, _ in fields])
    required = {CATEGORY_COLUMN} | {title for title, _, _, needed in fields if needed}
    channels = next((options(prop) for _, name, prop, _ in fields if name == "channel"), [])
    choices = {CATEGORY_COLUMN: [c.name for c in _categories(registry)],
               **{title: [t for _, t in options(prop)] for title, _, prop, _ in fields if options(prop)}}
    text_columns = {PLACE_COLUMN} | {title for title, name, prop, _ in fields
                                     if prop.get("type") == "string" and any(h in name for h in TEXT_HINTS)}
    for index, header in enumerate(headers, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        if header in required:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
        sheet.column_dimensions[letter].width = max(12, 2 * len(header) + 4)
        if header in text_columns:
            for row_number in range(2, ROWS_FORMATTED + 2):
                sheet.cell(row=row_number, column=index).number_format = "@"
        elif any(prop.get("format") == "date" for title, _, prop, _ in fields if title == header):
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
        listed = choices.get(header)
        if listed and len(",".join(listed)) < 250:  # Excel's limit for a list typed into the rule
            validation = DataValidation(type="list", formula1='"' + ",".join(listed) + '"', allow_blank=True)
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{ROWS_FORMATTED + 1}")
    sheet.freeze_panes = "C2"
    _notes(workbook.create_sheet("说明"), registry, fields, channels)
    workbook.save(target)


def _notes(notes, registry: ProcessRegistry, fields, channels) -> None:
    from openpyxl.styles import Font

    bold = []
    notes.append(["填写说明"])
    bold.append(notes.max_row)
    for line in (
        "每行一件纠纷；第一行是列名，不要修改。黄色底色的列必填；各类别另有必填项，见下表。",
        f"{CATEGORY_COLUMN}：填下表中的类别名称（或代码）。{PLACE_COLUMN}：填登记地的行政区划代码，留空则为导入人所在单位。",
        f"来源渠道：填下表中的名称（或代码），留空为“群众来访”。日期写成 2026-03-01；电话、证件号码请用文本格式。",
        "导入时先校验全部行：任何一行有误，整个文件都不导入，并逐行列出问题（行、列、问题）。",
        "校验通过后确认导入，全部案件在同一次提交中登记；中途任何一行失败，已登记的也全部撤销。",
        "本表中的示例行可以删除；“说明”工作表不会被导入。",
    ):
        notes.append([line])
    notes.append([])
    notes.append(["纠纷类别", "代码", "本类别专有的列（* 为必填）"])
    bold.append(notes.max_row)
    base = set(registry.forms.get(BASE_FORM).schema.get("properties", {})) if BASE_FORM in registry.forms else set()
    for category in _categories(registry):
        schema = registry.forms.get(category.intake_form).schema if category.intake_form in registry.forms else {}
        needed = set(schema.get("required", []))
        own = [prop.get("title", name) + ("*" if name in needed else "")
               for name, prop in schema.get("properties", {}).items() if name not in base]
        notes.append([category.name, category.code, "、".join(own)])
    notes.append([])
    notes.append(["来源渠道", "代码", ""])
    bold.append(notes.max_row)
    for code, title in channels:
        notes.append([title, code, "（默认）" if code == DEFAULT_CHANNEL else ""])
    for row in bold:
        for cell in notes[row]:
            cell.font = Font(bold=True)
    for letter, width in zip("ABC", (22, 20, 60)):
        notes.column_dimensions[letter].width = width


def _categories(registry: ProcessRegistry) -> list:
    return sorted(registry.categories.values(), key=lambda c: c.name)


def _example_category(registry: ProcessRegistry):
    """The example row's category: one whose form asks for nothing beyond the example's fields."""
    categories = _categories(registry)
    preferred = [c for c in categories if c.code == "neighbour"] + categories
    for category in preferred:
        if category.intake_form in registry.forms:
            required = set(registry.forms.get(category.intake_form).schema.get("required", []))
            if required <= set(EXAMPLE):
                return category
    return categories[0] if categories else None
