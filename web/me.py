"""我的设置: what a user may see and change about themselves.

They see their grants and their AB岗 backup (both set by administrators), declare themselves away
(请假/外出) so their backup takes over their claimed tasks, and change their own password.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.calendar import SHANGHAI
from engine.models import Department, Jurisdiction, User
from engine.own_account import change_password, declare_absence, return_now
from engine.people import PeopleError, is_absent
from engine.task_meta import ROLES

from .extensions import db
from .filters import local_time
from .services import services
from .session_user import current_user, login_required

bp = Blueprint("me", __name__)

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends (some browsers add seconds)


@dataclass(frozen=True)
class GrantRow:
    role: str
    jurisdiction: str
    department: str | None


@bp.get("/me")
@login_required
def settings():
    return _render()


@bp.post("/me/absence")
@login_required
def absence():
    user = current_user()
    if request.form.get("action") == "back":
        return_now(user)
        db.session.commit()
        flash("已返岗：您认领的任务不再由B岗代办", "success")
        return redirect(url_for("me.settings")), 303
    raw = request.form.get("absent_until", "").strip()
    try:
        declare_absence(user, _parse_local(raw), services().clock.now())
    except PeopleError as exc:
        db.session.rollback()
        return _render(errors={exc.field: str(exc)}, absent_input=raw), 422
    db.session.commit()
    flash(f"已登记请假/外出至 {local_time(user.absent_until)}，期间由B岗代办您认领的任务", "success")
    return redirect(url_for("me.settings")), 303


@bp.post("/me/password")
@login_required
def password():
    form = request.form
    try:
        change_password(current_user(), form.get("current_password", ""), form.get("new_password", ""),
                        form.get("repeated_password", ""))
    except PeopleError as exc:
        db.session.rollback()
        return _render(errors={exc.field: str(exc)}), 422
    db.session.commit()
    flash("密码已修改，下次登录请使用新密码", "success")
    return redirect(url_for("me.settings")), 303


def _render(errors: dict | None = None, absent_input: str | None = None):
    user = current_user()
    now = services().clock.now()
    if absent_input is None:
        absent_input = user.absent_until.astimezone(SHANGHAI).strftime(LOCAL_INPUT) if is_absent(user, now) else ""
    return render_template(
        "me.html", user=user, grants=grant_rows(user), backup=_user(user.backup_username),
        backing_up=_backing_up(user), absent=is_absent(user, now), absent_input=absent_input,
        errors=errors or {}, now=now)


def grant_rows(user: User) -> list[GrantRow]:
    """The user's grants as 角色 · 辖区 · 部门, with names where the organisation tree has them."""
    codes = sorted({g.jurisdiction_code for g in user.grants})
    places = {row.code: row.name for row in db.session.scalars(
        select(Jurisdiction).where(Jurisdiction.code.in_(codes)))} if codes else {}
    department_ids = sorted({g.department_id for g in user.grants if g.department_id is not None})
    departments = {row.id: row.name for row in db.session.scalars(
        select(Department).where(Department.id.in_(department_ids)))} if department_ids else {}
    return [GrantRow(ROLES.get(g.role, g.role),
                     f"{places[g.jurisdiction_code]}（{g.jurisdiction_code}）" if g.jurisdiction_code in places
                     else g.jurisdiction_code,
                     departments.get(g.department_id)) for g in user.grants]


def _user(username: str | None) -> User | None:
    if not username:
        return None
    return db.session.scalars(select(User).where(User.username == username)).one_or_none()


def _backing_up(user: User) -> list[User]:
    """Colleagues who named this user their backup: whose tasks they take over while they are away."""
    return list(db.session.scalars(select(User).where(User.backup_username == user.username,
                                                      User.active.is_(True)).order_by(User.username)))


def _parse_local(raw: str) -> datetime:
    """A datetime-local value as Beijing time; PeopleError if it is not one."""
    for layout in (LOCAL_INPUT, LOCAL_INPUT + ":%S"):
        try:
            return datetime.strptime(raw, layout).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    raise PeopleError("absent_until", "请填写返岗时间（年-月-日 时:分）")
