"""Users, their grants and departments: creating them and turning a user into an Actor."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .accounts import hash_password
from .actors import Actor, Grant
from .errors import EngineError, NotFound
from .models import Department, Jurisdiction, RoleGrant, User
from .task_meta import ROLES

PRESENCE = {"resident": "常驻", "rotating": "轮驻", "on_call": "随驻"}


class PeopleError(EngineError):
    """Bad user, grant or department data; the message says which field."""


def actor_for(session: Session, user: User, now: datetime) -> Actor:
    """The engine's view of `user` at `now`, including whom they stand in for (AB岗)."""
    absent = session.scalars(select(User.username).where(
        User.backup_username == user.username, User.active.is_(True),
        User.absent_until.is_not(None), User.absent_until > now))
    grants = frozenset(Grant(g.role, g.jurisdiction_code, g.department_id) for g in user.grants)
    return Actor(user.username, grants, user.display_name or user.username, user.jurisdiction_code,
                 frozenset(absent))


def is_absent(user: User | None, now: datetime) -> bool:
    return user is not None and user.absent_until is not None and user.absent_until > now


def find_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"user {username} does not exist")
    return user


def save_user(session: Session, username: str, display_name: str, jurisdiction_code: str, *,
              password: str | None = None, phone: str | None = None, backup_username: str | None = None,
              active: bool = True) -> User:
    """Create or update a user (not their grants). A new user needs a password. The caller commits."""
    username = username.strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise PeopleError(f"username {username!r}: 1–64 characters without spaces")
    if session.get(Jurisdiction, jurisdiction_code) is None:
        raise PeopleError(f"user {username}: jurisdiction {jurisdiction_code} does not exist")
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        if not password:
            raise PeopleError(f"user {username}: a new user needs a password")
        user = User(username=username, failed_logins=0)
        session.add(user)
    if password is not None:
        if len(password) < 8:
            raise PeopleError(f"user {username}: the password needs at least 8 characters")
        user.password_hash = hash_password(password)
    if backup_username:
        if backup_username == username:
            raise PeopleError(f"user {username}: cannot be their own backup (AB岗)")
        if session.scalars(select(User.id).where(User.username == backup_username)).first() is None:
            raise PeopleError(f"user {username}: backup {backup_username} does not exist")
    user.display_name = display_name.strip() or username
    user.jurisdiction_code = jurisdiction_code
    user.phone = phone or None
    user.backup_username = backup_username or None
    user.active = active
    return user


def grant(session: Session, user: User, role: str, jurisdiction_code: str,
          department_id: int | None = None) -> RoleGrant:
    """Give `user` `role` over `jurisdiction_code` (idempotent). The caller commits."""
    if role not in ROLES:
        raise PeopleError(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    if session.get(Jurisdiction, jurisdiction_code) is None:
        raise PeopleError(f"grant {role} to {user.username}: jurisdiction {jurisdiction_code} does not exist")
    if department_id is not None:
        department = session.get(Department, department_id)
        if department is None:
            raise PeopleError(f"grant {role} to {user.username}: department {department_id} does not exist")
        if role != "liaison":
            raise PeopleError(f"grant {role} to {user.username}: only 部门联络员 (liaison) is held for a department")
        if department.jurisdiction_code != jurisdiction_code:
            raise PeopleError(f"grant {role} to {user.username}: department {department.name} belongs to "
                              f"{department.jurisdiction_code}, not {jurisdiction_code}")
    for existing in user.grants:
        if (existing.role, existing.jurisdiction_code, existing.department_id) == (role, jurisdiction_code, department_id):
            return existing
    row = RoleGrant(role=role, jurisdiction_code=jurisdiction_code, department_id=department_id)
    user.grants.append(row)
    return row


def revoke(session: Session, user: User, grant_id: int) -> None:
    for existing in list(user.grants):
        if existing.id == grant_id:
            user.grants.remove(existing)
            return
    raise NotFound(f"user {user.username} holds no grant {grant_id}")


def save_department(session: Session, jurisdiction_code: str, code: str, name: str, presence: str,
                    rotation_start: date | None = None, rotation_end: date | None = None) -> Department:
    """Create or update a department stationed at a center. The caller commits."""
    center = session.get(Jurisdiction, jurisdiction_code)
    if center is None:
        raise PeopleError(f"department {code}: jurisdiction {jurisdiction_code} does not exist")
    if not center.center_name:
        raise PeopleError(f"department {code}: {center.name} has no 综治中心 to station it at")
    if presence not in PRESENCE:
        raise PeopleError(f"department {code}: presence {presence!r} is unknown; use one of {', '.join(PRESENCE)}")
    if presence == "rotating" and (rotation_start is None or rotation_end is None):
        raise PeopleError(f"department {code}: 轮驻 needs rotation_start and rotation_end")
    if rotation_start and rotation_end and rotation_end < rotation_start:
        raise PeopleError(f"department {code}: rotation_end {rotation_end} is before rotation_start {rotation_start}")
    if not code.strip() or not name.strip():
        raise PeopleError("a department needs a code and a name")
    row = session.scalars(select(Department).where(Department.jurisdiction_code == jurisdiction_code,
                                                   Department.code == code)).one_or_none()
    if row is None:
        row = Department(jurisdiction_code=jurisdiction_code, code=code)
        session.add(row)
    row.name, row.presence = name.strip(), presence
    row.rotation_start, row.rotation_end = (rotation_start, rotation_end) if presence == "rotating" else (None, None)
    row.active = True
    return row


def department_on_duty(department: Department, day: date) -> bool:
    """常驻 and 随驻 are always reachable; 轮驻 only within its rotation."""
    if department.presence != "rotating":
        return department.active
    return department.active and department.rotation_start <= day <= department.rotation_end


def resolve_department(session: Session, centers: list[str], name: str | None) -> Department | None:
    """The department called `name` (as routing names it) at the nearest of `centers` that has one."""
    if not name:
        return None
    rows = session.scalars(select(Department).where(Department.jurisdiction_code.in_(centers),
                                                    Department.name == name, Department.active.is_(True))).all()
    by_center = {row.jurisdiction_code: row for row in rows}
    for code in centers:
        if code in by_center:
            return by_center[code]
    return None
