"""The chain a definition lookup walks: a jurisdiction, its ancestors, then the base ("").

County variants, versions in force, calendar rulings and document templates are all looked up
nearest first along this chain. The `jurisdiction` table is used where it knows a code; past it
(or without a session) the chain follows the structure of 行政区划代码: a village 150207001001 is
under the township 150207001, under the county 150207, under the city 150200, under the province
150000.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Jurisdiction

BASE = ""  # the definition every jurisdiction inherits
MAX_DEPTH = 12  # a tree deeper than this is a cycle in the table


def ancestors(session: Session | None, code: str) -> list[str]:
    """`code`, then each ancestor nearest first, then "" (the base). `ancestors(s, "")` is [""].

    Follows `jurisdiction.parent_code` while the table has the code, then the code's structure.
    """
    parents = _table_parents(session, code) if session is not None else {}
    chain: list[str] = []
    current: str | None = code
    while current and current not in chain and len(chain) < MAX_DEPTH:
        chain.append(current)
        if current not in parents and session is not None and current not in _structural_chain(code):
            row = session.get(Jurisdiction, current)  # a parent off the code's structure: rare
            parents[current] = row.parent_code if row is not None else None
        current = parents.get(current) or structural_parent(current)
    chain.append(BASE)
    return chain


def _structural_chain(code: str) -> list[str]:
    chain, current = [], code
    while current and len(chain) < MAX_DEPTH:
        chain.append(current)
        current = structural_parent(current)
    return chain


def _table_parents(session: Session, code: str) -> dict[str, str | None]:
    """Parents the table records for the code's structural chain, in one query: this runs on every
    engine step (calendar, versions, documents), so it must not cost a round trip per level."""
    rows = session.execute(select(Jurisdiction.code, Jurisdiction.parent_code)
                           .where(Jurisdiction.code.in_(_structural_chain(code)))).all()
    return {row_code: parent for row_code, parent in rows}


def structural_parent(code: str) -> str | None:
    """The parent a 行政区划代码 implies, or None at the province (or for a code of unknown shape).

    12 digits (村) → 9 (乡镇) → 6 (县); a county xxyyzz → its city xxyy00 → its province xx0000.
    Longer codes (网格) hang under their village.
    """
    if not code.isdigit():
        return None
    if len(code) > 12:
        return code[:12]
    if len(code) == 12:
        return code[:9]
    if len(code) == 9:
        return code[:6]
    if len(code) == 6:
        if code.endswith("0000"):
            return None
        if code.endswith("00"):
            return code[:2] + "0000"
        return code[:4] + "00"
    return None
