"""Importing a 台账 (case ledger): every row checked first, then all cases registered or none.

A ledger is a table of disputes a center kept by hand (engine/ledger_sheet.py reads it). Each row
names its 纠纷类别 and 登记地 and carries the intake fields under their Chinese titles (or field
codes). `check_ledger` converts every cell (engine/ledger_cells.py), checks that the importer may
register at the place and validates the row against the intake form in force there — collecting
every problem as (row, column, message) instead of stopping at the first. `import_ledger` then
registers the cases through `CaseRuntime.start_case(commit=False)` in ONE transaction and commits
once: a failure on any row rolls back every case before it, and the report names that row.

The check looks up each (category, place) form before the import's transaction begins, because the
first lookup of a never-published category publishes it and commits (engine/versions.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .actors import Actor
from .errors import EngineError, Forbidden, FormInvalid
from .forms import Form
from .ledger_cells import CellError, convert, options
from .ledger_sheet import LedgerSheet, SheetRow, plain, read_ledger
from .org_workbook import RowError
from .runtime import CaseRuntime

__all__ = ["CATEGORY_COLUMN", "PLACE_COLUMN", "ImportedCase", "LedgerCheck", "LedgerReport", "LedgerRow",
           "RowError", "check_ledger", "import_file", "import_ledger"]

CATEGORY_COLUMN, PLACE_COLUMN = "纠纷类别", "登记地"
CATEGORY_ALIASES = (CATEGORY_COLUMN, "category", "category_code", "类别", "纠纷类型")
PLACE_ALIASES = (PLACE_COLUMN, "jurisdiction_code", "jurisdiction", "登记地代码", "行政区划代码", "登记地（行政区划代码）")
DEFAULT_CHANNEL = "walk_in"  # 群众来访: what a hand-kept ledger mostly records
MAX_ROWS = 2000  # one transaction; on SQLite it keeps every other writer waiting while it runs
JURISDICTION_CODE = re.compile(r"^\d{6,20}$")

Progress = Callable[[int, int], None]  # (rows imported so far, rows in the file)


@dataclass(frozen=True)
class LedgerRow:
    """A row that passed the check: what `start_case` gets, and the header each field came from."""

    number: int
    category_code: str
    place: str
    intake: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)  # field code -> header in the file


@dataclass
class LedgerCheck:
    """Every row of a ledger checked: the rows ready to import, or the problems found."""

    sheet: str
    rows: list[LedgerRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    place_header: str = PLACE_COLUMN
    data_rows: int = 0  # rows with anything in them, passed or not

    @property
    def ok(self) -> bool:
        return not self.errors  # a check without errors has rows: an empty file is an error

    def summary(self, category_names: dict[str, str]) -> str:
        """共 N 件：劳动争议 2 件，邻里纠纷 3 件 — what confirming would register."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.category_code] = counts.get(row.category_code, 0) + 1
        parts = "，".join(f"{category_names.get(code, code)} {n} 件" for code, n in counts.items())
        return f"共 {len(self.rows)} 件" + (f"：{parts}" if parts else "")


@dataclass(frozen=True)
class ImportedCase:
    row: int
    case_id: int
    code: str
    category_code: str


@dataclass
class LedgerReport:
    """What an import did. `committed` is True only when every row became a case."""

    total: int = 0
    errors: list[RowError] = field(default_factory=list)
    cases: list[ImportedCase] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False
    failed_row: int | None = None  # the row the import transaction stopped at

    @property
    def ok(self) -> bool:
        return not self.errors


def import_file(session: Session, runtime: CaseRuntime, source: Path | bytes, filename: str | None,
                actor: Actor, *, dry_run: bool = False, progress: Progress | None = None) -> LedgerReport:
    """Read, check and (unless `dry_run`) import a ledger file; see check_ledger and import_ledger."""
    check = check_ledger(session, runtime, read_ledger(source, filename), actor)
    if dry_run or not check.ok:
        return LedgerReport(total=check.data_rows, errors=check.errors, dry_run=dry_run)
    return import_ledger(session, runtime, check, actor, progress=progress)


def check_ledger(session: Session, runtime: CaseRuntime, sheet: LedgerSheet, actor: Actor) -> LedgerCheck:
    """Check every row of `sheet` as `actor` would register it; writes no case.

    May commit the first publication of a category's version (see the module docstring); pass a
    session with nothing pending. Ends with the session rolled back.
    """
    try:
        return _Checker(session, runtime, sheet, actor).check()
    finally:
        session.rollback()


def import_ledger(session: Session, runtime: CaseRuntime, check: LedgerCheck, actor: Actor, *,
                  progress: Progress | None = None,
                  before_commit: Callable[[Session, list[ImportedCase]], None] | None = None) -> LedgerReport:
    """Register every row of a passed `check` in one transaction, committed once at the end.

    `progress(done, total)` is called after each row. `before_commit(session, cases)` runs inside the
    transaction just before the commit, so a record of the import commits together with its cases.
    If any row fails, everything is rolled back and the report names the row; nothing is imported.
    """
    report = LedgerReport(total=check.data_rows, errors=list(check.errors))
    if not check.ok:
        return report
    imported: list[ImportedCase] = []
    current: LedgerRow | None = None
    try:
        for current in check.rows:
            case = runtime.start_case(session, current.category_code, current.intake, current.place, actor,
                                      commit=False)
            imported.append(ImportedCase(current.number, case.id, case.code, current.category_code))
            if progress is not None:
                progress(len(imported), report.total)
        current = None
        if before_commit is not None:
            before_commit(session, imported)
        session.commit()
    except (EngineError, SQLAlchemyError) as exc:
        session.rollback()
        report.failed_row = current.number if current else None
        report.errors = _failure(check, current, exc)
        return report
    except BaseException:
        session.rollback()
        raise
    report.cases, report.committed = imported, True
    return report


def _failure(check: LedgerCheck, row: LedgerRow | None, exc: Exception) -> list[RowError]:
    undone = "本次未导入任何案件（已全部撤销）"
    if row is None:
        return [RowError(check.sheet, None, None, f"数据库拒绝了写入（可能有人同时登记了案件），{undone}，请重试")]
    if isinstance(exc, FormInvalid):
        return [RowError(check.sheet, row.number, _column(row, e.field), f"{e.message}；{undone}") for e in exc.errors]
    if isinstance(exc, Forbidden):
        return [RowError(check.sheet, row.number, check.place_header,
                         f"您无权在辖区 {row.place} 登记案件；{undone}")]
    return [RowError(check.sheet, row.number, None, f"登记失败：{exc}；{undone}")]


def _column(row: LedgerRow, field_path: str) -> str | None:
    top = field_path.split(".")[0]
    return row.columns.get(top) or top or None


class _Checker:
    """One check of a sheet: the category and form lookups, and the problems found so far."""

    def __init__(self, session: Session, runtime: CaseRuntime, sheet: LedgerSheet, actor: Actor):
        self.session, self.runtime, self.sheet, self.actor = session, runtime, sheet, actor
        self.registry = runtime.registry
        self.errors: list[RowError] = list(sheet.errors)
        self.categories = {}
        for code, category in self.registry.categories.items():
            self.categories[plain(category.name)] = code
            self.categories[plain(code)] = code
        self.forms: dict[tuple[str, str], Form] = {}
        self.category_header = _find(sheet.headers, CATEGORY_ALIASES)
        self.place_header = _find(sheet.headers, PLACE_ALIASES)
        # Field headers: everything else, matched per row against that row's form.
        self.field_headers = [h for h in sheet.headers if h not in (self.category_header, self.place_header)]
        self.known = {key for form in self._base_forms() for key in _lookup(form)}
        self.strays: list[tuple[SheetRow, str, str]] = []  # (row, header, category name): not in its form

    def check(self) -> LedgerCheck:
        result = LedgerCheck(self.sheet.title, place_header=self.place_header or PLACE_COLUMN,
                             data_rows=len(self.sheet.rows))
        if not self.sheet.headers:
            pass  # unreadable, or no header row: the reader has said why
        elif self.category_header is None:
            self.errors.append(RowError(self.sheet.title, 1, CATEGORY_COLUMN, "缺少必需的列（填类别名称，如“邻里纠纷”）"))
        elif len(self.sheet.rows) > MAX_ROWS:
            self.errors.append(RowError(self.sheet.title, None, None,
                                        f"文件有 {len(self.sheet.rows)} 行数据，超过每次 {MAX_ROWS} 行的上限，请分批导入"))
        else:
            for row in self.sheet.rows:
                checked = self._row(row)
                if checked is not None:
                    result.rows.append(checked)
            self._report_strays()
        if not self.errors and not result.rows:
            self.errors.append(RowError(self.sheet.title, None, None, "文件中没有数据行"))
        order = {header: index for index, header in enumerate(self.sheet.headers)}
        result.errors = sorted(self.errors, key=lambda e: (e.row or 0, order.get(e.column, len(order))))
        if result.errors:
            result.rows = []
        return result

    # -- one row --------------------------------------------------------------------------------

    def _row(self, row: SheetRow) -> LedgerRow | None:
        before = len(self.errors)
        code = self._category(row)
        place = self._place(row)
        if code is None:
            return None
        form = self._form(row, code, place)
        if form is None:
            return None
        intake, columns, unreadable = self._cells(row, form, code)
        props = form.schema.get("properties", {})
        channel = props.get("channel", {})
        if "channel" not in intake and "channel" not in unreadable and DEFAULT_CHANNEL in dict(options(channel)):
            intake["channel"] = DEFAULT_CHANNEL
        try:
            form.validate(intake)
        except FormInvalid as exc:
            for error in exc.errors:
                top = error.field.split(".")[0]
                if top not in unreadable:  # its own message is already there; "必填" would only confuse
                    title = props.get(top, {}).get("title", top) if top else None
                    self._error(row, columns.get(top) or title, error.message)
        if len(self.errors) > before or place is None:
            return None
        return LedgerRow(row.number, code, place, intake, columns)

    def _category(self, row: SheetRow) -> str | None:
        value = row.cells.get(self.category_header)
        if value is None:
            self._error(row, self.category_header, "必填，不能为空")
            return None
        code = self.categories.get(plain(value))
        if code is None:
            names = "、".join(c.name for c in sorted(self.registry.categories.values(), key=lambda c: c.name))
            self._error(row, self.category_header, f"没有“{value}”这个纠纷类别，可选：{names}")
        return code

    def _place(self, row: SheetRow) -> str | None:
        value = row.cells.get(self.place_header) if self.place_header else None
        if value is None:
            # Like the registration page: the importer's own unit unless the row says otherwise.
            value = self.actor.jurisdiction_code
        if not value:
            self._error(row, self.place_header or PLACE_COLUMN, "必填：登记地的行政区划代码")
            return None
        try:
            place = convert(value, {"type": "string"})
        except CellError as exc:
            self._error(row, self.place_header or PLACE_COLUMN, str(exc))
            return None
        if not JURISDICTION_CODE.match(place):
            self._error(row, self.place_header or PLACE_COLUMN, "行政区划代码应为6至20位数字")
            return None
        if not self.actor.can_register(place):
            self._error(row, self.place_header or PLACE_COLUMN, f"您无权在辖区 {place} 登记案件（不在您的管辖范围内）")
            return None
        return place

    def _form(self, row: SheetRow, code: str, place: str | None) -> Form | None:
        if place is None:
            # The place is wrong, but the rest of the row can still be checked against the base form.
            return self.registry.forms.get(self.registry.categories[code].intake_form)
        key = (code, place)
        if key not in self.forms:
            try:
                self.forms[key] = self.runtime.intake_form(self.session, code, place)
            except EngineError as exc:
                self._error(row, self.category_header, f"无法取得该类别在 {place} 的登记表：{exc}")
                return None
            self.known |= set(_lookup(self.forms[key]))
        return self.forms[key]

    def _cells(self, row: SheetRow, form: Form, code: str) -> tuple[dict[str, Any], dict[str, str], set[str]]:
        """The row's fields for `form`: (typed values, header per field, fields whose cell was unreadable)."""
        lookup = _lookup(form)
        props = form.schema.get("properties", {})
        intake: dict[str, Any] = {}
        columns = {name: header for header in self.field_headers
                   if (name := lookup.get(plain(header))) is not None}
        unreadable: set[str] = set()
        for header in self.field_headers:
            value = row.cells.get(header)
            name = lookup.get(plain(header))
            if value is None:
                continue
            if name is None:
                self.strays.append((row, header, self.registry.categories[code].name))
                continue
            try:
                intake[name] = convert(value, props[name])
            except CellError as exc:
                self._error(row, header, str(exc))
                unreadable.add(name)
        return intake, columns, unreadable

    # -- the file as a whole ------------------------------------------------------------------------

    def _report_strays(self) -> None:
        """A header no form knows is a typo: say so once. One that belongs to another category's
        form only matters on the rows that fill it in."""
        unknown_reported = set()
        for row, header, category_name in self.strays:
            if plain(header) not in self.known:
                if header not in unknown_reported:
                    unknown_reported.add(header)
                    self.errors.append(RowError(self.sheet.title, 1, header,
                                                "无法识别的列名：请使用模板中的列名（或登记表的字段代码）"))
            else:
                self._error(row, header, f"“{category_name}”的登记表没有这一项，请留空")

    def _base_forms(self) -> list[Form]:
        forms = self.registry.forms
        return [forms.get(c.intake_form) for c in self.registry.categories.values() if c.intake_form in forms]

    def _error(self, row: SheetRow, column: str | None, message: str) -> None:
        self.errors.append(RowError(self.sheet.title, row.number, column, message))


def _find(headers: list[str], aliases: tuple[str, ...]) -> str | None:
    keys = {plain(alias) for alias in aliases}
    return next((header for header in headers if plain(header) in keys), None)


def _lookup(form: Form) -> dict[str, str]:
    """plain(title) and plain(code) -> field code, for a form's fields."""
    lookup = {}
    for name, prop in form.schema.get("properties", {}).items():
        lookup[plain(name)] = name
        lookup.setdefault(plain(prop.get("title", name)), name)
    return lookup
