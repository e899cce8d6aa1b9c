"""Importing an organisation workbook: every row checked, then all of it committed or none.

The rows go through the same functions the admin pages and the CLI use (`jurisdictions.save`,
`people.save_department`, `people.save_user`, `people.grant`), inside one transaction, so a file
can break no rule the UI enforces. Every problem is collected as (sheet, row, column, message);
if there is any, the transaction is rolled back and nothing is written.

Rows may refer to rows further down the file: jurisdictions are applied parents first (by level),
users before the backups (AB岗) that name them, and grants last. Importing the same file again
changes nothing: existing rows are updated in place, grants are only added.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from . import jurisdictions, people
from .errors import NotFound
from .jurisdictions import LEVELS, TreeError
from .models import Jurisdiction, User
from .org_scope import AdminScope
from .org_workbook import SPECS, Row, RowError, Sheet, Workbook, read_bytes, read_path
from .people import PeopleError
from .task_meta import ROLES

__all__ = ["ImportReport", "RowError", "SheetCount", "import_file", "import_workbook"]


@dataclass
class SheetCount:
    created: int = 0
    changed: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"新增 {self.created}，更新 {self.changed}，未变 {self.unchanged}"


@dataclass
class ImportReport:
    """What an import found and did. `committed` is True only when every row was written."""

    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, SheetCount] = field(default_factory=dict)  # by sheet title, in file order
    dry_run: bool = False
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return "；".join(f"{title}：{count}" for title, count in self.counts.items()) or "文件中没有数据行"


def import_file(session: Session, source: Path | bytes, filename: str | None = None, *,
                scope: AdminScope | None = None, dry_run: bool = False) -> ImportReport:
    """Read `source` (a path, or uploaded bytes named `filename`) and import it; see import_workbook."""
    book = read_path(Path(source)) if not isinstance(source, bytes) else read_bytes(source, filename or "")
    return import_workbook(session, book, scope=scope, dry_run=dry_run)


def import_workbook(session: Session, book: Workbook, *, scope: AdminScope | None = None,
                    dry_run: bool = False) -> ImportReport:
    """Check every row of `book` and, if none has a problem and not `dry_run`, commit them all.

    Owns the transaction: pass a session with nothing pending. On any problem, or on a dry run, the
    session is rolled back. `scope` limits which jurisdictions and people the file may touch (an
    administrator's subtree); None means everything (the CLI).
    """
    run = _Run(session, scope or AdminScope.everything(), book)
    report = ImportReport(errors=list(book.errors), dry_run=dry_run)
    try:
        run.apply()
        report.errors += run.errors
        order = {sheet.title: _SHEET_ORDER[kind] for kind, sheet in book.sheets.items()}
        # File-wide problems first, then the sheets (辖区, 部门, 用户, 角色) row by row, then unknown sheets.
        report.errors.sort(key=lambda e: (e.sheet != "" and e.sheet not in order, order.get(e.sheet, -1), e.row or 0))
        report.counts = {sheet.title: run.counts[sheet.spec.kind] for sheet in run.sheets}
        if not report.errors:
            session.flush()  # a dry run meets the database's own constraints too
        if report.errors or dry_run:
            session.rollback()
        else:
            session.commit()
            report.committed = True
    except SQLAlchemyError:
        session.rollback()
        report.errors.append(RowError("", None, None, "数据库拒绝了写入（可能有人同时修改了相同的数据），"
                                                       "本次未导入任何内容，请重试"))
    return report


_SHEET_ORDER = {spec.kind: index for index, spec in enumerate(SPECS)}


class _Run:
    """One import: the rows applied so far, the problems found, and which rows failed (so a row
    that refers to a failed one says so instead of "does not exist")."""

    def __init__(self, session: Session, scope: AdminScope, book: Workbook):
        self.session, self.scope = session, scope
        self.sheets = [book.sheets[spec.kind] for spec in SPECS if spec.kind in book.sheets]
        self.by_kind = {sheet.spec.kind: sheet for sheet in self.sheets if sheet.usable}
        self.errors: list[RowError] = []
        self.counts = {spec.kind: SheetCount() for spec in SPECS}
        self.failed: dict[tuple[str, object], int] = {}  # (kind, key) -> row number of the failed row

    def apply(self) -> None:
        users = self._users()
        self._jurisdictions()
        self._departments()
        saved = self._save_users(users)
        self._backups(users, saved)
        self._grants()

    # -- helpers ----------------------------------------------------------------------------------

    def error(self, sheet: Sheet, row: Row, field_name: str | None, message: str) -> None:
        column = sheet.header(field_name) if field_name else None
        self.errors.append(RowError(sheet.title, row.number, column, message))

    def required(self, sheet: Sheet, row: Row) -> bool:
        missing = [c.field for c in sheet.spec.columns if c.required and not row.get(c.field)]
        for field_name in missing:
            self.error(sheet, row, field_name, "必填，不能为空")
        return not missing

    def blocked(self, sheet: Sheet, row: Row, field_name: str, kind: str, key) -> bool:
        """True (and an error) if `row` refers to a row of `kind` that failed earlier in this file."""
        failed_row = self.failed.get((kind, key))
        if failed_row is None:
            return False
        title = next(s.title for s in self.sheets if s.spec.kind == kind)
        self.error(sheet, row, field_name, f"引用的“{key}”在{title}表第 {failed_row} 行有误，请先修正该行")
        return True

    def duplicate(self, sheet: Sheet, row: Row, field_name: str, key, seen: dict) -> bool:
        if key in seen:
            self.error(sheet, row, field_name, f"与本表第 {seen[key]} 行重复")
            return True
        seen[key] = row.number
        return False

    def count(self, kind: str, before, after) -> None:
        counter = self.counts[kind]
        if before is None:
            counter.created += 1
        elif before != after:
            counter.changed += 1
        else:
            counter.unchanged += 1

    # -- 辖区 ---------------------------------------------------------------------------------------

    def _jurisdictions(self) -> None:
        sheet = self.by_kind.get("jurisdictions")
        if sheet is None:
            return
        seen: dict[str, int] = {}
        parsed = []
        for row in sheet.rows:
            code = row.get("code")
            ok = self.required(sheet, row)
            level = jurisdictions.parse_level(row.get("level"))
            if row.get("level") and level is None:
                self.error(sheet, row, "level", "层级无效，应为" + "、".join(jurisdictions.LEVEL_NAMES.values()) + "之一")
                ok = False
            if code and self.duplicate(sheet, row, "code", code, seen):
                continue  # the first row with this code stands; this one is only reported
            if not ok:
                self.failed[("jurisdictions", code)] = row.number
                continue
            parsed.append((row, level))
        # Parents before children: a parent is always a higher level than its child.
        parsed.sort(key=lambda item: (LEVELS.index(item[1]), len(item[0].get("code")), item[0].number))
        for row, level in parsed:
            code, parent = row.get("code"), row.get("parent_code") or None
            if not self._jurisdiction_row(sheet, row, code, level, parent):
                self.failed[("jurisdictions", code)] = row.number

    def _jurisdiction_row(self, sheet: Sheet, row: Row, code: str, level: str, parent: str | None) -> bool:
        if not self.scope.covers(code):
            self.error(sheet, row, "code", f"辖区 {code} 不在您的管理范围内")
            return False
        if not self.scope.may_place(code, parent):
            self.error(sheet, row, "parent_code", "上级辖区不在您的管理范围内")
            return False
        if parent and self.blocked(sheet, row, "parent_code", "jurisdictions", parent):
            return False
        existing = self.session.get(Jurisdiction, code)
        before = _jurisdiction_state(existing) if existing else None
        try:
            saved = jurisdictions.save(self.session, code, row.get("name"), level, parent, row.get("center_name"))
        except TreeError as exc:
            self.error(sheet, row, exc.field, str(exc))
            return False
        self.count("jurisdictions", before, _jurisdiction_state(saved))
        return True

    # -- 部门 ---------------------------------------------------------------------------------------

    def _departments(self) -> None:
        sheet = self.by_kind.get("departments")
        if sheet is None:
            return
        seen: dict[tuple[str, str], int] = {}
        for row in sheet.rows:
            key = (row.get("jurisdiction_code"), row.get("code"))
            if all(key) and self.duplicate(sheet, row, "code", key, seen):
                continue
            if not self._department_row(sheet, row, key):
                self.failed[("departments", key)] = row.number

    def _department_row(self, sheet: Sheet, row: Row, key: tuple[str, str]) -> bool:
        ok = self.required(sheet, row)
        presence = people.parse_presence(row.get("presence"))
        if row.get("presence") and presence is None:
            self.error(sheet, row, "presence", "入驻方式应为常驻、轮驻或随驻")
            ok = False
        dates = {}
        for field_name in ("rotation_start", "rotation_end"):
            dates[field_name] = _parse_date(row.get(field_name))
            if row.get(field_name) and dates[field_name] is None:
                self.error(sheet, row, field_name, "日期格式不正确，应为 YYYY-MM-DD")
                ok = False
        active = _parse_bool(row.get("active"))
        if active is None:
            self.error(sheet, row, "active", "应填“是”或“否”")
            ok = False
        if not ok:
            return False
        jurisdiction_code, code = key
        if not self.scope.covers(jurisdiction_code):
            self.error(sheet, row, "jurisdiction_code", f"辖区 {jurisdiction_code} 不在您的管理范围内")
            return False
        if self.blocked(sheet, row, "jurisdiction_code", "jurisdictions", jurisdiction_code):
            return False
        existing = people.find_department(self.session, jurisdiction_code, code)
        before = _department_state(existing) if existing else None
        try:
            saved = people.save_department(self.session, jurisdiction_code, code, row.get("name"), presence,
                                           dates["rotation_start"], dates["rotation_end"],
                                           active=(existing.active if existing else True) if active == "keep" else active)
        except PeopleError as exc:
            self.error(sheet, row, exc.field, str(exc))
            return False
        self.count("departments", before, _department_state(saved))
        return True

    # -- 用户 ---------------------------------------------------------------------------------------

    def _users(self) -> list[Row]:
        """The user rows worth applying; duplicates and rows missing values are reported here."""
        sheet = self.by_kind.get("users")
        if sheet is None:
            return []
        seen: dict[str, int] = {}
        rows = []
        for row in sheet.rows:
            username = row.get("username")
            if username and self.duplicate(sheet, row, "username", username, seen):
                continue
            ok = self.required(sheet, row)
            if _parse_bool(row.get("active")) is None:
                self.error(sheet, row, "active", "应填“是”或“否”")
                ok = False
            if ok:
                rows.append(row)
            else:
                self.failed[("users", username)] = row.number
        return rows

    def _save_users(self, rows: list[Row]) -> dict[str, tuple[User, tuple | None]]:
        sheet = self.by_kind.get("users")
        saved: dict[str, tuple[User, tuple | None]] = {}
        for row in rows:
            result = self._user_row(sheet, row)
            if result is None:
                self.failed[("users", row.get("username"))] = row.number
            else:
                saved[row.get("username")] = result
        return saved

    def _user_row(self, sheet: Sheet, row: Row) -> tuple[User, tuple | None] | None:
        username, unit = row.get("username"), row.get("jurisdiction_code")
        if not self.scope.covers(unit):
            self.error(sheet, row, "jurisdiction_code", f"辖区 {unit} 不在您的管理范围内")
            return None
        if self.blocked(sheet, row, "jurisdiction_code", "jurisdictions", unit):
            return None
        existing = _find_user(self.session, username)
        if existing is not None and not self.scope.may_manage(existing):
            self.error(sheet, row, "username", f"用户名 {username} 已被您管理范围以外的用户使用")
            return None
        password = row.get("password") or None
        if existing is not None and password and check_password_hash(existing.password_hash, password):
            password = None  # the same password again: keep the stored hash, nothing changes
        active = _parse_bool(row.get("active"))
        before = _user_state(existing) if existing else None
        try:
            # Backups are set once every user of the file exists (they may name a later row).
            user = people.save_user(self.session, username, row.get("display_name"), unit, password=password,
                                    phone=row.get("phone"), backup_username=None,
                                    active=None if active == "keep" else active)
        except PeopleError as exc:
            self.error(sheet, row, exc.field, str(exc))
            return None
        return user, before

    def _backups(self, rows: list[Row], saved: dict[str, tuple[User, tuple | None]]) -> None:
        sheet = self.by_kind.get("users")
        for row in rows:
            username = row.get("username")
            if username not in saved:
                continue
            user, before = saved[username]
            backup = row.get("backup_username") or None
            if backup and self.blocked(sheet, row, "backup_username", "users", backup):
                self.failed[("users", username)] = row.number
                continue
            backup_user = _find_user(self.session, backup) if backup else None
            if backup_user is not None and not self.scope.covers(backup_user.jurisdiction_code):
                self.error(sheet, row, "backup_username", f"B 岗用户 {backup} 不在您的管理范围内")
                continue
            try:
                people.set_backup(self.session, user, backup)
            except PeopleError as exc:
                self.error(sheet, row, exc.field, str(exc))
                continue
            self.count("users", before, _user_state(user))

    # -- 角色 ---------------------------------------------------------------------------------------

    def _grants(self) -> None:
        sheet = self.by_kind.get("grants")
        if sheet is None:
            return
        for row in sheet.rows:
            self._grant_row(sheet, row)

    def _grant_row(self, sheet: Sheet, row: Row) -> None:
        ok = self.required(sheet, row)
        role = people.parse_role(row.get("role"))
        if row.get("role") and role is None:
            self.error(sheet, row, "role", "角色无效，应为" + "、".join(ROLES.values()) + "之一")
            ok = False
        if not ok:
            return
        username, code, department_code = row.get("username"), row.get("jurisdiction_code"), row.get("department_code")
        if not self.scope.covers(code):
            self.error(sheet, row, "jurisdiction_code", f"辖区 {code} 不在您的管理范围内")
            return
        if self.blocked(sheet, row, "username", "users", username) \
                or self.blocked(sheet, row, "jurisdiction_code", "jurisdictions", code) \
                or (department_code and self.blocked(sheet, row, "department_code", "departments", (code, department_code))):
            return
        user = _find_user(self.session, username)
        if user is None:
            self.error(sheet, row, "username", f"用户 {username} 不存在（也不在用户表中）")
            return
        if not self.scope.may_manage(user):
            self.error(sheet, row, "username", f"用户 {username} 不在您的管理范围内")
            return
        department_id = None
        if department_code:
            department = people.find_department(self.session, code, department_code)
            if department is None:
                self.error(sheet, row, "department_code", f"辖区 {code} 的综治中心没有代码为 {department_code} 的部门")
                return
            department_id = department.id
        held = people.holds(user, role, code, department_id) is not None
        try:
            people.grant(self.session, user, role, code, department_id)
        except PeopleError as exc:
            self.error(sheet, row, "department_code" if exc.field == "department" else exc.field, str(exc))
            return
        self.count("grants", True if held else None, True)


def _find_user(session: Session, username: str | None) -> User | None:
    if not username:
        return None
    try:
        return people.find_user(session, username)
    except NotFound:
        return None


def _jurisdiction_state(row: Jurisdiction) -> tuple:
    return row.name, row.level, row.parent_code, row.center_name


def _department_state(row) -> tuple:
    return row.name, row.presence, row.rotation_start, row.rotation_end, row.active


def _user_state(user: User) -> tuple:
    return (user.display_name, user.jurisdiction_code, user.phone, user.backup_username, user.active,
            user.password_hash)


def _parse_date(text: str) -> date | None:
    """YYYY-MM-DD, YYYY/M/D, YYYY.M.D or YYYY年M月D日; None if it is none of these."""
    text = (text or "").strip()
    if not text:
        return None
    for sep in ("年", "月", "/", "."):
        text = text.replace(sep, "-")
    text = text.rstrip("日").split(" ")[0]
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


_TRUE = {"是", "启用", "有效", "y", "yes", "true", "1", "正常"}
_FALSE = {"否", "停用", "禁用", "无效", "n", "no", "false", "0"}


def _parse_bool(text: str):
    """True / False, "keep" for a blank cell (existing rows keep their state), None if unreadable."""
    value = (text or "").strip().lower()
    if not value:
        return "keep"
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None
