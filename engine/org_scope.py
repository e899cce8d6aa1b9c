"""What an administrator may manage: the subtrees of their 系统管理员 grants.

An administrator of 150207 manages 150207 and everything below it, and nothing beside it: the
places, departments and people of 150203 do not exist for them. The CLI runs with `everything()`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true

from .actors import Actor, code_covers, jurisdiction_prefix
from .models import User

ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class AdminScope:
    """The jurisdiction codes at the top of an administrator's reach; `unlimited` for the CLI."""

    roots: tuple[str, ...] = ()
    unlimited: bool = False

    @classmethod
    def of(cls, actor: Actor) -> "AdminScope":
        """The scope of `actor`'s admin grants (empty when they hold none)."""
        codes = sorted({g.jurisdiction_code for g in actor.grants if g.role == ADMIN_ROLE}, key=lambda c: (len(c), c))
        roots: list[str] = []
        for code in codes:
            if not any(code_covers(outer, code) for outer in roots):
                roots.append(code)
        return cls(tuple(roots))

    @classmethod
    def everything(cls) -> "AdminScope":
        return cls((), unlimited=True)

    def covers(self, code: str | None) -> bool:
        """True if jurisdiction `code` lies within the scope."""
        if self.unlimited:
            return True
        return bool(code) and any(code_covers(root, code) for root in self.roots)

    def may_place(self, code: str, parent_code: str | None) -> bool:
        """May a node `code` be put under `parent_code`? Inside the scope, the parent must be too; a
        scope's own root may keep the parent above it (that is where it sits in the tree)."""
        if not self.covers(code):
            return False
        if self.unlimited or code in self.roots:
            return True
        return parent_code is not None and self.covers(parent_code)

    def may_manage(self, user: User) -> bool:
        """May the administrator edit `user`? Their unit must be inside the scope, and they must hold
        no admin grant reaching beyond it (a county admin cannot take over a city admin's account)."""
        if self.unlimited:
            return True
        return self.covers(user.jurisdiction_code) and all(
            self.covers(g.jurisdiction_code) for g in user.grants if g.role == ADMIN_ROLE)

    def condition(self, column) -> ColumnElement[bool]:
        """SQL condition: `column` (a jurisdiction code) lies within the scope."""
        if self.unlimited:
            return true()
        parts = [or_(column == root, column.startswith(jurisdiction_prefix(root), autoescape=True))
                 for root in self.roots]
        return or_(*parts) if parts else false()
