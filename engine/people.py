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
    """Bad user, grant or department data. `field` names the input at fault (username, display_name,
    jurisdiction_code, phone, backup_username, password, role, department, code, name, presence,
    rotation_start, rotation_end); the message is the Chinese sentence shown beside it."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


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
              active: bool | None = None) -> User:
    """Create or update a user (not their grants); raises PeopleError. The caller commits.

    A new user needs a password; `password` None keeps an existing user's. `active` None keeps an
    existing user's state (a new user starts active). Everything is checked before anything changes,
    so a refused call leaves the session as it was.
    """
    username = (username or "").strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise PeopleError("username", "用户名应为 1–64 个字符，不能含空格")
    display_name = (display_name or "").strip()
    if len(display_name) > 64:
        raise PeopleError("display_name", "姓名不能超过 64 个字符")
    jurisdiction_code = (jurisdiction_code or "").strip()
    if not jurisdiction_code:
        raise PeopleError("jurisdiction_code", "请选择所属辖区")
    if session.get(Jurisdiction, jurisdiction_code) is None:
        raise PeopleError("jurisdiction_code", f"辖区 {jurisdiction_code} 不存在")
    phone = check_phone(phone)
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None and not password:
        raise PeopleError("password", "新用户需要设置初始密码")
    if password is not None:
        check_password(password)
    backup_username = _checked_backup(session, username, backup_username)
    if user is None:
        user = User(username=username, failed_logins=0, active=True)
        session.add(user)
    if password is not None:
        user.password_hash = hash_password(password)
    user.display_name = display_name or username
    user.jurisdiction_code = jurisdiction_code
    user.phone = phone
    user.backup_username = backup_username
    if active is not None:
        user.active = active
    return user


def check_password(password: str) -> None:
    """Raise PeopleError unless `password` is acceptable (8–128 characters)."""
    if len(password) < 8:
        raise PeopleError("password", "密码至少需要 8 个字符")
    if len(password) > 128:
        raise PeopleError("password", "密码不能超过 128 个字符")


def check_phone(phone: str | None) -> str | None:
    """`phone` tidied (None when blank); PeopleError if it cannot be a phone number."""
    phone = (phone or "").strip()
    if not phone:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    if len(phone) > 20 or digits < 7 or any(not (ch.isdigit() or ch in "+-() ") for ch in phone):
        raise PeopleError("phone", "电话号码格式不正确（如 13800138000 或 0472-1234567）")
    return phone


def _checked_backup(session: Session, username: str, backup_username: str | None) -> str | None:
    backup_username = (backup_username or "").strip() or None
    if backup_username is None:
        return None
    if backup_username == username:
        raise PeopleError("backup_username", "AB岗的 B 岗不能是本人")
    if session.scalars(select(User.id).where(User.username == backup_username)).first() is None:
        raise PeopleError("backup_username", f"B 岗用户 {backup_username} 不存在")
    return backup_username


def set_backup(session: Session, user: User, backup_username: str | None) -> None:
    """Name `user`'s backup (AB岗 B) or clear it with None; raises PeopleError. The caller commits."""
    user.backup_username = _checked_backup(session, user.username, backup_username)


def set_password(user: User, password: str) -> None:
    """Give `user` a new password and lift any lockout (an administrator's reset). The caller commits."""
    check_password(password)
    user.password_hash = hash_password(password)
    unlock(user)


def unlock(user: User) -> None:
    """Lift a lockout after repeated wrong passwords. The caller commits."""
    user.failed_logins, user.locked_until = 0, None


def set_active(user: User, active: bool) -> None:
    """Let `user` log in (True) or not (False); a disabled user's sessions end on their next request."""
    user.active = active


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def set_absence(user: User, until: datetime | None) -> None:
    """Mark `user` absent until `until` (their B岗 stands in meanwhile), or present with None."""
    if until is not None and until.tzinfo is None:
        raise PeopleError("absent_until", "外出截止时间缺少时区")
    user.absent_until = until


def grant(session: Session, user: User, role: str, jurisdiction_code: str,
          department_id: int | None = None) -> RoleGrant:
    """Give `user` `role` over `jurisdiction_code` (idempotent); raises PeopleError. The caller commits.

    Only a 部门联络员 grant names a department, and it must be a department of that jurisdiction's
    center; a liaison without one coordinates every department there.
    """
    if role not in ROLES:
        raise PeopleError("role", "角色无效，应为" + "、".join(ROLES.values()) + "之一")
    if not jurisdiction_code or session.get(Jurisdiction, jurisdiction_code) is None:
        raise PeopleError("jurisdiction_code", f"辖区 {jurisdiction_code} 不存在")
    if department_id is not None:
        department = session.get(Department, department_id)
        if department is None:
            raise PeopleError("department", "部门不存在")
        if role != "liaison":
            raise PeopleError("department", f"只有部门联络员按部门授权，{ROLES[role]}不选部门")
        if department.jurisdiction_code != jurisdiction_code:
            raise PeopleError("department", f"部门“{department.name}”属于辖区 {department.jurisdiction_code}，"
                                            f"不属于 {jurisdiction_code}")
        if not department.active:
            raise PeopleError("department", f"部门“{department.name}”已停用")
    for existing in user.grants:
        if (existing.role, existing.jurisdiction_code, existing.department_id) == (role, jurisdiction_code, department_id):
            return existing
    row = RoleGrant(role=role, jurisdiction_code=jurisdiction_code, department_id=department_id)
    user.grants.append(row)
    return row


def holds(user: User, role: str, jurisdiction_code: str, department_id: int | None = None) -> RoleGrant | None:
    """`user`'s grant of exactly this role, jurisdiction and department, if any."""
    for existing in user.grants:
        if (existing.role, existing.jurisdiction_code, existing.department_id) == (role, jurisdiction_code, department_id):
            return existing
    return None


def revoke(session: Session, user: User, grant_id: int) -> None:
    """Take grant `grant_id` away from `user`; NotFound if they do not hold it. The caller commits."""
    for existing in list(user.grants):
        if existing.id == grant_id:
            user.grants.remove(existing)
            return
    raise NotFound(f"user {user.username} holds no grant {grant_id}")


def find_department(session: Session, jurisdiction_code: str, code: str) -> Department | None:
    return session.scalars(select(Department).where(Department.jurisdiction_code == jurisdiction_code,
                                                    Department.code == code)).one_or_none()


def save_department(session: Session, jurisdiction_code: str, code: str, name: str, presence: str,
                    rotation_start: date | None = None, rotation_end: date | None = None,
                    active: bool = True) -> Department:
    """Create or update a department stationed at a center; raises PeopleError. The caller commits.

    常驻 and 随驻 keep no rotation dates; 轮驻 needs both, the end not before the start.
    """
    code, name = (code or "").strip(), (name or "").strip()
    center = session.get(Jurisdiction, jurisdiction_code) if jurisdiction_code else None
    if center is None:
        raise PeopleError("jurisdiction_code", f"辖区 {jurisdiction_code} 不存在")
    if not center.center_name:
        raise PeopleError("jurisdiction_code", f"{center.name}没有综治中心（站），不能设入驻部门")
    if not code or len(code) > 40 or any(ch.isspace() for ch in code):
        raise PeopleError("code", "部门代码应为 1–40 个字符，不能含空格")
    if not name:
        raise PeopleError("name", "请填写部门名称")
    if len(name) > 100:
        raise PeopleError("name", "部门名称不能超过 100 个字符")
    if presence not in PRESENCE:
        raise PeopleError("presence", "入驻方式应为常驻、轮驻或随驻")
    if presence == "rotating":
        if rotation_start is None:
            raise PeopleError("rotation_start", "轮驻部门需要填写轮驻开始日期")
        if rotation_end is None:
            raise PeopleError("rotation_end", "轮驻部门需要填写轮驻结束日期")
        if rotation_end < rotation_start:
            raise PeopleError("rotation_end", f"轮驻结束日期 {rotation_end} 早于开始日期 {rotation_start}")
    row = find_department(session, jurisdiction_code, code)
    if row is None:
        row = Department(jurisdiction_code=jurisdiction_code, code=code)
        session.add(row)
    row.name, row.presence = name, presence
    row.rotation_start, row.rotation_end = (rotation_start, rotation_end) if presence == "rotating" else (None, None)
    row.active = active
    return row


def parse_presence(value: str) -> str | None:
    """The presence code for `value` given as a code (rotating) or in Chinese (轮驻)."""
    text = (value or "").strip()
    if text.lower() in PRESENCE:
        return text.lower()
    return {name: code for code, name in PRESENCE.items()}.get(text)


def parse_role(value: str) -> str | None:
    """The role code for `value` given as a code (mediator) or by its Chinese name (调解员)."""
    text = (value or "").strip()
    if text.lower() in ROLES:
        return text.lower()
    return {name: code for code, name in ROLES.items()}.get(text)


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
