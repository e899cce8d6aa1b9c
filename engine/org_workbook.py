"""Organisation spreadsheets: reading 辖区 / 部门 / 用户 / 角色 sheets and writing the template.

A workbook is an .xlsx file, a folder or .zip of CSV files (one per sheet, named after it:
辖区.csv …), or a single such CSV. Headers may be Chinese or English. Cells come back as trimmed
strings keyed by field name, with the row number a spreadsheet program shows (the header is row 1),
so every problem can be reported where the user will look for it. Nothing here touches a database.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .jurisdictions import LEVEL_NAMES
from .people import PRESENCE
from .spreadsheet_text import UNKNOWN_ENCODING, cell_text, decode_csv
from .task_meta import ROLES


@dataclass(frozen=True)
class Column:
    field: str
    title: str  # the Chinese header the template writes
    aliases: tuple[str, ...] = ()
    required: bool = False
    note: str = ""
    text: bool = False  # codes and phone numbers: kept as text so Excel does not turn them into numbers


@dataclass(frozen=True)
class SheetSpec:
    kind: str
    title: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


_ACTIVE = Column("active", "启用", ("active", "enabled", "状态"), note="是/否，空白为“是”（已有记录保持原状态）")
SPECS = (
    SheetSpec("jurisdictions", "辖区", ("jurisdictions", "jurisdiction", "行政区划", "辖区表"), (
        Column("code", "代码", ("code", "区划代码", "行政区划代码", "辖区代码"), True, "6–20 位行政区划代码", text=True),
        Column("name", "名称", ("name", "辖区名称"), True),
        Column("level", "层级", ("level", "级别"), True, "、".join(LEVEL_NAMES.values()) + "（或 city、county…）"),
        Column("parent_code", "上级代码", ("parent_code", "parent", "上级"), note="最上一级留空", text=True),
        Column("center_name", "综治中心", ("center_name", "center", "中心名称", "综治中心（站）", "综治站"),
               note="本级综治中心或综治站的名称；网格通常留空"),
    )),
    SheetSpec("departments", "部门", ("departments", "department", "入驻部门", "部门表"), (
        Column("jurisdiction_code", "辖区代码", ("jurisdiction_code", "jurisdiction", "所属辖区"), True,
               "部门入驻的综治中心所在辖区", text=True),
        Column("code", "部门代码", ("code", "department_code"), True, "在本中心内唯一，如 court"),
        Column("name", "部门名称", ("name", "department_name"), True),
        Column("presence", "入驻方式", ("presence", "入驻类型"), True, "常驻、轮驻或随驻（或 resident、rotating、on_call）"),
        Column("rotation_start", "轮驻开始", ("rotation_start", "轮驻开始日期", "开始日期"), note="轮驻必填，YYYY-MM-DD"),
        Column("rotation_end", "轮驻结束", ("rotation_end", "轮驻结束日期", "结束日期"), note="轮驻必填，YYYY-MM-DD"),
        _ACTIVE,
    )),
    SheetSpec("users", "用户", ("users", "user", "人员", "用户表"), (
        Column("username", "用户名", ("username", "login", "账号", "登录名"), True, "登录用的名字，不含空格"),
        Column("display_name", "姓名", ("display_name", "name", "显示名"), True),
        Column("jurisdiction_code", "所属辖区", ("jurisdiction_code", "jurisdiction", "辖区代码", "所在单位"), True,
               "本人所在单位的辖区代码", text=True),
        Column("phone", "手机号", ("phone", "mobile", "电话", "联系电话", "手机"), text=True),
        Column("backup_username", "B岗用户名", ("backup_username", "backup", "AB岗", "B岗", "备岗"),
               note="AB岗：本人外出时代为办理的同事用户名"),
        Column("password", "初始密码", ("password", "密码"), note="新用户必填，至少 8 位；已有用户留空则不改密码"),
        _ACTIVE,
    )),
    SheetSpec("grants", "角色", ("grants", "grant", "roles", "role", "授权", "角色表"), (
        Column("username", "用户名", ("username", "login", "账号", "登录名"), True),
        Column("role", "角色", ("role", "角色名称"), True, "、".join(ROLES.values()) + "（或 mediator 等代码）"),
        Column("jurisdiction_code", "辖区代码", ("jurisdiction_code", "jurisdiction", "授权辖区"), True,
               "在哪个辖区行使该角色（含其下级）", text=True),
        Column("department_code", "部门代码", ("department_code", "department", "部门"),
               note="仅部门联络员填写：该辖区综治中心的部门代码"),
    )),
)
SPEC_BY_KIND = {spec.kind: spec for spec in SPECS}
IGNORED_SHEETS = ("说明", "readme", "示例说明", "填写说明")
IGNORED_COLUMN_PREFIXES = ("备注", "note", "remark", "#")


@dataclass(frozen=True)
class RowError:
    """One problem in the file: sheet title, row number (None: the whole sheet or file), column header."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.sheet or "文件"
        if self.row is not None:
            where += f" 第 {self.row} 行"
        if self.column:
            where += f"【{self.column}】"
        return f"{where}：{self.message}"


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]

    def get(self, field_name: str) -> str:
        return self.values.get(field_name, "")


@dataclass
class Sheet:
    """One sheet as read: its title in the file, the header each field was found under, its rows."""

    spec: SheetSpec
    title: str
    headers: dict[str, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    usable: bool = True  # False when a required column is missing: its rows are not interpreted

    def header(self, field_name: str) -> str:
        return self.headers.get(field_name) or self.spec.column(field_name).title


@dataclass
class Workbook:
    sheets: dict[str, Sheet] = field(default_factory=dict)  # by kind
    errors: list[RowError] = field(default_factory=list)


def read_path(path: Path) -> Workbook:
    """Read an .xlsx workbook, a folder or .zip of CSV files, or one CSV file named after its sheet."""
    path = Path(path)
    if path.is_dir():
        book = Workbook()
        csv_files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        if not csv_files:
            book.errors.append(RowError("", None, None, f"文件夹 {path} 中没有 CSV 文件"))
        for item in csv_files:
            _add_csv(book, item.stem, item.read_bytes())
        return book
    if not path.exists():
        return Workbook(errors=[RowError("", None, None, f"文件 {path} 不存在")])
    return read_bytes(path.read_bytes(), path.name)


def read_bytes(data: bytes, filename: str) -> Workbook:
    """Read an uploaded file; its name's suffix (.xlsx, .zip, .csv) says which kind it is."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data)
    if suffix == ".zip":
        return _read_zip(data)
    if suffix == ".csv":
        book = Workbook()
        _add_csv(book, Path(filename).stem, data)
        return book
    return Workbook(errors=[RowError("", None, None, "不支持的文件类型：请使用 .xlsx 工作簿、CSV 文件或装有 CSV 文件的 .zip")])


def _read_xlsx(data: bytes) -> Workbook:
    from openpyxl import load_workbook

    book = Workbook()
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises several kinds for a file that is not a workbook
        book.errors.append(RowError("", None, None, "无法读取文件：不是有效的 .xlsx 工作簿（旧版 .xls 请另存为 .xlsx）"))
        return book
    try:
        for worksheet in workbook.worksheets:
            _add_table(book, worksheet.title, worksheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    if not book.sheets and not book.errors:
        book.errors.append(RowError("", None, None, "文件中没有可导入的工作表（辖区、部门、用户、角色）"))
    return book


def _read_zip(data: bytes) -> Workbook:
    book = Workbook()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        book.errors.append(RowError("", None, None, "无法读取文件：不是有效的 .zip 压缩包"))
        return book
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = _zip_name(info)
            if info.is_dir() or "__MACOSX" in name or not name.lower().endswith(".csv"):
                continue
            _add_csv(book, Path(name).stem, archive.read(info))
    if not book.sheets and not book.errors:
        book.errors.append(RowError("", None, None, "压缩包中没有可导入的 CSV 文件（辖区.csv、部门.csv、用户.csv、角色.csv）"))
    return book


def _zip_name(info: zipfile.ZipInfo) -> str:
    # Zip tools on Chinese Windows store names in GBK without the UTF-8 flag; Python reads them as cp437.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _add_csv(book: Workbook, title: str, data: bytes) -> None:
    try:
        text = decode_csv(data)
    except UnicodeDecodeError:
        book.errors.append(RowError(title, None, None, UNKNOWN_ENCODING))
        return
    _add_table(book, title, csv.reader(io.StringIO(text, newline="")))


def _add_table(book: Workbook, title: str, rows) -> None:
    spec = _spec_for(title)
    if spec is None:
        if _plain(title) not in IGNORED_SHEETS:
            names = "、".join(s.title for s in SPECS)
            book.errors.append(RowError(title, None, None, f"无法识别的工作表名称，应为{names}之一（或“说明”）"))
        return
    if spec.kind in book.sheets:
        book.errors.append(RowError(title, None, None, f"与工作表“{book.sheets[spec.kind].title}”重复"))
        return
    sheet = Sheet(spec, title)
    book.sheets[spec.kind] = sheet
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None or not any(cell_text(c) for c in header):
        sheet.usable = False
        book.errors.append(RowError(title, 1, None, "第一行应为列名"))
        return
    positions = _read_header(book, sheet, header)
    for number, cells in enumerate(iterator, start=2):
        cells = list(cells)
        values = {name: cell_text(cells[i]) if i < len(cells) else "" for i, name in positions.items()}
        if any(values.values()):
            sheet.rows.append(Row(number, values))


def _read_header(book: Workbook, sheet: Sheet, header) -> dict[int, str]:
    lookup = {}
    for column in sheet.spec.columns:
        for name in (column.title, column.field, *column.aliases):
            lookup[_plain(name)] = column.field
    positions: dict[int, str] = {}
    for index, cell in enumerate(header):
        text = cell_text(cell)
        if not text or _plain(text).startswith(IGNORED_COLUMN_PREFIXES):
            continue
        field_name = lookup.get(_plain(text))
        if field_name is None:
            known = "、".join(c.title for c in sheet.spec.columns)
            book.errors.append(RowError(sheet.title, 1, text, f"无法识别的列名，可用的列名：{known}"))
        elif field_name in sheet.headers:
            book.errors.append(RowError(sheet.title, 1, text, f"与“{sheet.headers[field_name]}”是同一列，重复了"))
        else:
            sheet.headers[field_name] = text
            positions[index] = field_name
    for column in sheet.spec.columns:
        if column.required and column.field not in sheet.headers:
            sheet.usable = False
            book.errors.append(RowError(sheet.title, 1, column.title, "缺少必需的列"))
    return positions


def _spec_for(title: str) -> SheetSpec | None:
    key = _plain(title)
    for spec in SPECS:
        if key in {_plain(name) for name in (spec.title, spec.kind, *spec.aliases)}:
            return spec
    return None


def _plain(text: str) -> str:
    """A header or sheet name for matching: no spaces or required-field stars, lower case."""
    return "".join(ch for ch in str(text) if not ch.isspace() and ch not in "*＊").lower()


# -- the template ---------------------------------------------------------------------------------

EXAMPLE_PASSWORD = "Fengqiao-2026"
EXAMPLE = {
    "jurisdictions": [
        ("150200", "包头市", "市", "", "包头市社会治安综合治理中心"),
        ("150207", "九原区", "县（区、旗）", "150200", "九原区社会治安综合治理中心"),
        ("150207001", "沙河街道", "乡镇（街道）", "150207", "沙河街道综治中心"),
        ("150207001001", "兴胜社区", "村（社区）", "150207001", "兴胜社区综治站"),
        ("150207001001001", "兴胜社区第一网格", "网格", "150207001001", ""),
    ],
    "departments": [
        ("150207", "court", "九原区人民法院", "轮驻", "2026-01-01", "2026-06-30", "是"),
        ("150207", "justice", "九原区司法局", "常驻", "", "", "是"),
        ("150207", "hrss", "九原区人力资源和社会保障局", "随驻", "", "", "是"),
    ],
    "users": [
        ("jy-admin", "孙管理", "150207", "13800000001", "", EXAMPLE_PASSWORD, "是"),
        ("sh-mediator", "张调解", "150207001", "13800000002", "sh-mediator2", EXAMPLE_PASSWORD, "是"),
        ("sh-mediator2", "王调解", "150207001", "13800000003", "sh-mediator", EXAMPLE_PASSWORD, "是"),
        ("court-liaison", "刘联络", "150207", "13800000004", "", EXAMPLE_PASSWORD, "是"),
    ],
    "grants": [
        ("jy-admin", "系统管理员", "150207", ""),
        ("jy-admin", "中心主任", "150207", ""),
        ("sh-mediator", "调解员", "150207001", ""),
        ("sh-mediator2", "调解员", "150207001", ""),
        ("court-liaison", "部门联络员", "150207", "court"),
    ],
}


def write_template(path: Path, example: bool = False) -> None:
    """Write an empty organisation workbook with a 说明 sheet (`example`: filled with a small county).

    A path ending in .xlsx gets a workbook; .zip a zip of CSV files; anything else a folder of them.
    """
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _write_xlsx(path, example)
        return
    files = {f"{spec.title}.csv": _csv_text(spec, example) for spec in SPECS}
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(name, text.encode("utf-8-sig"))
        return
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_bytes(text.encode("utf-8-sig"))


def template_xlsx(example: bool = False) -> bytes:
    """The .xlsx template as bytes, for a download."""
    buffer = io.BytesIO()
    _write_xlsx(buffer, example)
    return buffer.getvalue()


def _csv_text(spec: SheetSpec, example: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.title for c in spec.columns])
    for row in EXAMPLE[spec.kind] if example else ():
        writer.writerow(row)
    return out.getvalue()


def _write_xlsx(target, example: bool) -> None:
    from openpyxl import Workbook as XlsxWorkbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = XlsxWorkbook()
    workbook.remove(workbook.active)
    choices = {("jurisdictions", "level"): list(LEVEL_NAMES.values()),
               ("departments", "presence"): list(PRESENCE.values()),
               ("grants", "role"): list(ROLES.values())}
    for spec in SPECS:
        sheet = workbook.create_sheet(spec.title)
        sheet.append([c.title for c in spec.columns])
        for row in EXAMPLE[spec.kind] if example else ():
            sheet.append(list(row))
        for index, column in enumerate(spec.columns, start=1):
            letter = get_column_letter(index)
            cell = sheet.cell(row=1, column=index)
            cell.font = Font(bold=True)
            if column.required:
                cell.fill = PatternFill("solid", fgColor="FFF2CC")
            sheet.column_dimensions[letter].width = max(12, 2 * len(column.title) + 4)
            if column.text:
                for row_number in range(2, 502):
                    sheet.cell(row=row_number, column=index).number_format = "@"
            options = choices.get((spec.kind, column.field))
            if options:
                validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
                sheet.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}501")
        sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("说明")
    notes.append(["工作表", "列名", "必填", "说明"])
    for spec in SPECS:
        for column in spec.columns:
            notes.append([spec.title, column.title, "是" if column.required else "", column.note])
    notes.append([])
    notes.append(["", "", "", "黄色底色的列为必填列。列名也可以用英文（如 code、name、level）。"])
    notes.append(["", "", "", "导入时先校验全部行：任何一行有误，整个文件都不导入，并逐行列出问题。"])
    notes.append(["", "", "", "重复导入同一文件只会更新，不会产生重复记录；角色只增加，不撤销。"])
    for letter, width in zip("ABCD", (10, 14, 6, 70)):
        notes.column_dimensions[letter].width = width
    for cell in notes[1]:
        cell.font = Font(bold=True)
    workbook.save(target)
