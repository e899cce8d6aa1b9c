"""The 行政区划 tree: which center handles a place, the level above, the places below.

The tree is optional: a code that is not in the `jurisdiction` table is treated as its own center,
so a deployment (or a test) without an organisation still runs cases where they are registered.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import code_covers
from .errors import EngineError
from .models import Department, Jurisdiction

LEVELS = ("province", "city", "county", "township", "village", "grid")
LEVEL_NAMES = {"province": "省", "city": "市", "county": "县（区、旗）", "township": "乡镇（街道）",
               "village": "村（社区）", "grid": "网格"}
# What people write in a spreadsheet's 层级 column, besides the codes themselves.
LEVEL_ALIASES = {
    "省": "province", "自治区": "province", "直辖市": "province", "省级": "province",
    "市": "city", "地级市": "city", "盟": "city", "州": "city", "市级": "city",
    "县": "county", "区": "county", "旗": "county", "县级市": "county", "县级": "county", "县（区、旗）": "county",
    "县区": "county", "县（区）": "county",
    "乡": "township", "镇": "township", "街道": "township", "苏木": "township", "乡镇": "township",
    "乡镇（街道）": "township", "乡级": "township",
    "村": "village", "社区": "village", "嘎查": "village", "村（社区）": "village", "村社区": "village",
    "网格": "grid",
}
# The levels a case is handled at (小事不出村、大事不出乡、难事不出县), lowest first.
HANDLING_LEVELS = ("village", "township", "county", "city")


class TreeError(EngineError):
    """A jurisdiction that does not fit the tree (bad code, unknown parent, wrong level).

    `field` names the input at fault (code, name, level, parent_code, center_name); the message is
    the Chinese sentence an administrator sees beside that field.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def get(session: Session, code: str) -> Jurisdiction | None:
    return session.get(Jurisdiction, code)




def path(session: Session, code: str) -> list[Jurisdiction]:
    """`code` and its ancestors in the table, nearest first."""
    from .variant_lookup import ancestors

    chain = [c for c in ancestors(session, code) if c]
    rows = {row.code: row for row in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(chain)))}
    found: list[Jurisdiction] = []
    row = rows.get(code)
    while row is not None and len(found) < len(LEVELS) + 2:
        found.append(row)
        row = rows.get(row.parent_code) if row.parent_code else None
    return found


def handling_center(session: Session, code: str) -> str:
    """The jurisdiction whose center handles cases registered at `code`: itself if it has a
    center, else the nearest ancestor with one (a grid's village station). Unknown codes: itself."""
    for row in path(session, code):
        if row.center_name:
            return row.code
    return code


def center_at_level(session: Session, code: str, level: str) -> str | None:
    """The center at `level` on the way up from `code` (None if the tree has none there)."""
    for row in path(session, code):
        if row.level == level and row.center_name:
            return row.code
    return None




def parent_center(session: Session, code: str) -> str | None:
    """The next center up from `code` (village station → township center → county center)."""
    for row in path(session, code)[1:]:
        if row.center_name:
            return row.code
    return None


def children(session: Session, code: str) -> list[Jurisdiction]:
    return list(session.scalars(select(Jurisdiction).where(Jurisdiction.parent_code == code)
                                .order_by(Jurisdiction.code)))


def subtree(session: Session, code: str) -> list[Jurisdiction]:
    """`code` and everything below it, in code order (a prefix scan)."""
    from .actors import jurisdiction_prefix

    prefix = jurisdiction_prefix(code)
    return list(session.scalars(select(Jurisdiction).where(
        (Jurisdiction.code == code) | Jurisdiction.code.startswith(prefix, autoescape=True))
        .order_by(Jurisdiction.code)))






def parse_level(value: str) -> str | None:
    """The level code for `value` given as a code (county) or in Chinese (县, 区, 旗, 街道, 社区…)."""
    text = (value or "").strip()
    if text.lower() in LEVELS:
        return text.lower()
    return LEVEL_ALIASES.get(text)


def save(session: Session, code: str, name: str, level: str, parent_code: str | None,
         center_name: str | None = None) -> Jurisdiction:
    """Create or update a node after checking it fits the tree; raises TreeError. The caller commits.

    Levels follow LEVELS downwards (a level may be skipped: a village may sit directly under a
    county), a child's code extends its parent's, and the code's shape matches its level, since
    "everything below" is a prefix match on it (a city's 150200 covers every 1502… code).
    """
    code, name = (code or "").strip(), (name or "").strip()
    parent_code = (parent_code or "").strip() or None
    center_name = (center_name or "").strip() or None
    if not code.isdigit() or not 6 <= len(code) <= 20:
        raise TreeError("code", "辖区代码应为 6 至 20 位数字的行政区划代码")
    if level not in LEVELS:
        raise TreeError("level", "层级无效，应为" + "、".join(LEVEL_NAMES.values()) + "之一")
    shape = _code_shape_problem(code, level)
    if shape:
        raise TreeError("code", shape)
    if not name:
        raise TreeError("name", "请填写名称")
    if len(name) > 100:
        raise TreeError("name", "名称不能超过 100 个字符")
    if center_name and len(center_name) > 100:
        raise TreeError("center_name", "综治中心名称不能超过 100 个字符")
    if parent_code:
        parent = session.get(Jurisdiction, parent_code)
        if parent_code == code:
            raise TreeError("parent_code", "上级不能是本辖区自己")
        if parent is None:
            raise TreeError("parent_code", f"上级辖区 {parent_code} 不存在")
        if not code_covers(parent.code, code):
            raise TreeError("code", f"代码 {code} 不在上级 {parent.code}（{parent.name}）之下：下级代码应以上级代码开头")
        if LEVELS.index(level) <= LEVELS.index(parent.level):
            raise TreeError("level", f"{LEVEL_NAMES[level]}不能设在{LEVEL_NAMES[parent.level]}“{parent.name}”之下")
    row = session.get(Jurisdiction, code)
    if row is not None:
        for child in children(session, code):
            if LEVELS.index(child.level) <= LEVELS.index(level):
                raise TreeError("level", f"下级“{child.name}”是{LEVEL_NAMES[child.level]}，"
                                         f"本辖区不能改为{LEVEL_NAMES[level]}")
        if row.center_name and not center_name and session.scalars(
                select(Department.id).where(Department.jurisdiction_code == code)).first() is not None:
            raise TreeError("center_name", "该综治中心有入驻部门，不能取消中心名称")
    else:
        row = Jurisdiction(code=code)
        session.add(row)
    row.name, row.level, row.parent_code, row.center_name = name, level, parent_code, center_name
    return row


def _code_shape_problem(code: str, level: str) -> str | None:
    if level == "province" and not (len(code) == 6 and code.endswith("0000")):
        return "省级代码应为以 0000 结尾的 6 位数字（如 150000）"
    if level == "city" and not (len(code) == 6 and code.endswith("00") and not code.endswith("0000")):
        return "市级代码应为以 00 结尾的 6 位数字（如 150200）"
    if level == "county" and not (len(code) == 6 and not code.endswith("00")):
        return "县级代码应为 6 位数字，且不以 00 结尾（如 150207）"
    if level in ("township", "village", "grid") and len(code) <= 6:
        return f"{LEVEL_NAMES[level]}代码应在县级 6 位代码之后继续编码（如 150207001）"
    return None
