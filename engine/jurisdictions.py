"""The 行政区划 tree: which center handles a place, the level above, the places below.

The tree is optional: a code that is not in the `jurisdiction` table is treated as its own center,
so a deployment (or a test) without an organisation still runs cases where they are registered.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import code_covers
from .errors import EngineError, NotFound
from .models import Jurisdiction

LEVELS = ("province", "city", "county", "township", "village", "grid")
LEVEL_NAMES = {"province": "省", "city": "市", "county": "县（区、旗）", "township": "乡镇（街道）",
               "village": "村（社区）", "grid": "网格"}
# The levels a case is handled at (小事不出村、大事不出乡、难事不出县), lowest first.
HANDLING_LEVELS = ("village", "township", "county", "city")


class TreeError(EngineError):
    """A jurisdiction that does not fit the tree (bad code, unknown parent, wrong level)."""


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str
    parent_code: str | None
    center_name: str | None


def get(session: Session, code: str) -> Jurisdiction | None:
    return session.get(Jurisdiction, code)


def require(session: Session, code: str) -> Jurisdiction:
    row = session.get(Jurisdiction, code)
    if row is None:
        raise NotFound(f"jurisdiction {code} does not exist")
    return row


def path(session: Session, code: str) -> list[Jurisdiction]:
    """`code` and its ancestors in the table, nearest first."""
    found: list[Jurisdiction] = []
    row = session.get(Jurisdiction, code)
    while row is not None and len(found) < len(LEVELS) + 2:
        found.append(row)
        row = session.get(Jurisdiction, row.parent_code) if row.parent_code else None
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


def level_of(session: Session, code: str) -> str | None:
    row = session.get(Jurisdiction, code)
    return row.level if row else None


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


def names(session: Session, codes) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    return {row.code: row.name for row in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(codes)))}


def center_names(session: Session) -> dict[str, str]:
    """Every center's name by code, for document seals."""
    return {code: name for code, name in session.execute(
        select(Jurisdiction.code, Jurisdiction.center_name).where(Jurisdiction.center_name.is_not(None)))}


def save(session: Session, code: str, name: str, level: str, parent_code: str | None,
         center_name: str | None = None) -> Jurisdiction:
    """Create or update a node after checking it fits the tree. The caller commits."""
    if not code.isdigit() or not 6 <= len(code) <= 20:
        raise TreeError(f"jurisdiction code {code!r}: use the 6- to 20-digit 行政区划代码")
    if level not in LEVELS:
        raise TreeError(f"jurisdiction {code}: level {level!r} is unknown; use one of {', '.join(LEVELS)}")
    if not name.strip():
        raise TreeError(f"jurisdiction {code}: a name is required")
    if parent_code:
        parent = session.get(Jurisdiction, parent_code)
        if parent is None:
            raise TreeError(f"jurisdiction {code}: parent {parent_code} does not exist")
        if not code_covers(parent.code, code) or code == parent.code:
            raise TreeError(f"jurisdiction {code} does not lie below its parent {parent_code} "
                            "(a child's code extends its parent's)")
        if LEVELS.index(level) <= LEVELS.index(parent.level):
            raise TreeError(f"jurisdiction {code}: a {level} cannot sit below a {parent.level}")
    row = session.get(Jurisdiction, code)
    if row is None:
        row = Jurisdiction(code=code)
        session.add(row)
    row.name, row.level, row.parent_code = name.strip(), level, parent_code or None
    row.center_name = (center_name or "").strip() or None
    return row
