"""Who is acting, and which cases they may see: roles held over a jurisdiction subtree."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_

from .task_meta import TASK_ROLES


def jurisdiction_prefix(code: str) -> str:
    """The prefix shared by every code inside jurisdiction `code`.

    行政区划代码: 15 0000 is a province, 1502 00 a city, 150207 a county; codes below a county
    (乡镇 9 digits, 村 12 digits) extend it. A city therefore covers every code starting with "1502".
    """
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


@dataclass(frozen=True)
class Actor:
    """A user (or the system) acting on cases, with roles over one jurisdiction and everything below."""

    username: str
    roles: frozenset[str]
    jurisdiction_code: str
    display_name: str = ""

    def covers(self, jurisdiction_code: str) -> bool:
        """True if a case registered at `jurisdiction_code` is within this actor's jurisdiction."""
        return jurisdiction_code.startswith(jurisdiction_prefix(self.jurisdiction_code))

    def jurisdiction_filter(self, column) -> ColumnElement[bool]:
        """SQL condition restricting `column` (a jurisdiction code) to this actor's subtree."""
        prefix = jurisdiction_prefix(self.jurisdiction_code)
        return or_(column == self.jurisdiction_code, column.startswith(prefix, autoescape=True))

    def may_act_as(self, role: str) -> bool:
        return role in self.roles


SYSTEM = Actor("system", frozenset(TASK_ROLES), "", "系统")
