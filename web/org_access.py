"""The reach of the administrator behind a request: what the organisation pages may show and change.

Anything outside the administrator's subtree answers 404, exactly like something that does not
exist, so a county administrator cannot even learn that another county's user name is taken.
"""
from __future__ import annotations

from flask import abort, g
from sqlalchemy import select

from engine.models import Department, Jurisdiction, User
from engine.org_scope import AdminScope

from .extensions import db
from .session_user import current_actor, current_user


def admin_scope() -> AdminScope:
    if "admin_scope" not in g:
        g.admin_scope = AdminScope.of(current_actor())
    return g.admin_scope


def scoped_jurisdiction(code: str) -> Jurisdiction:
    row = db.session.get(Jurisdiction, code)
    if row is None or not admin_scope().covers(code):
        abort(404)
    return row


def scoped_department(department_id: int) -> Department:
    row = db.session.get(Department, department_id)
    if row is None or not admin_scope().covers(row.jurisdiction_code):
        abort(404)
    return row


def scoped_user(username: str) -> User:
    user = db.session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not admin_scope().covers(user.jurisdiction_code):
        abort(404)
    return user


def require_manageable(user: User) -> None:
    """403 unless the administrator may change `user` (see AdminScope.may_manage)."""
    if not admin_scope().may_manage(user):
        abort(403)


def is_self(user: User) -> bool:
    me = current_user()
    return me is not None and me.id == user.id


def places_in_scope() -> list[Jurisdiction]:
    """Every jurisdiction the administrator reaches, in code order (for selects)."""
    return list(db.session.scalars(select(Jurisdiction).where(admin_scope().condition(Jurisdiction.code))
                                   .order_by(Jurisdiction.code)))


def departments_in_scope(active_only: bool = False) -> list[Department]:
    query = select(Department).where(admin_scope().condition(Department.jurisdiction_code))
    if active_only:
        query = query.where(Department.active.is_(True))
    return list(db.session.scalars(query.order_by(Department.jurisdiction_code, Department.code)))


def place_choices() -> list[tuple[str, str]]:
    """(code, label) for a jurisdiction select: the administrator's tree, indented by depth."""
    depth: dict[str, int] = {}
    choices = []
    for row in places_in_scope():  # code order puts every parent before its children
        depth[row.code] = depth[row.parent_code] + 1 if row.parent_code in depth else 0
        choices.append((row.code, f"{'　' * depth[row.code]}{row.name}（{row.code}）"))
    return choices
