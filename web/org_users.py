"""Organisation pages: users, their roles (grants) and their accounts.

An administrator sees the users whose unit lies in their subtree and grants roles only over it.
They cannot disable themselves or take away their own last 系统管理员 grant, so nobody locks the
last administrator out by mistake.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from engine import people
from engine.calendar import SHANGHAI
from engine.models import Department, Jurisdiction, RoleGrant, User
from engine.org_scope import AdminScope
from engine.people import PeopleError
from engine.task_meta import ROLES

from .extensions import db
from .org_access import (
    admin_scope, departments_in_scope, is_self, place_choices, require_manageable, scoped_user,
)
from .services import services
from .session_user import role_required

bp = Blueprint("users", __name__)

PROFILE_FIELDS = ("display_name", "jurisdiction_code", "phone", "backup_username")


@bp.route("/users")
@role_required("admin")
def index():
    filters = {key: request.args.get(key, "").strip() for key in ("jurisdiction", "role", "q")}
    query = select(User).where(admin_scope().condition(User.jurisdiction_code))
    if filters["jurisdiction"] and admin_scope().covers(filters["jurisdiction"]):
        query = query.where(AdminScope((filters["jurisdiction"],)).condition(User.jurisdiction_code))
    if filters["role"] in ROLES:
        query = query.where(User.grants.any(RoleGrant.role == filters["role"]))
    if filters["q"]:
        pattern = f"%{filters['q']}%"
        query = query.where(or_(User.username.ilike(pattern), User.display_name.ilike(pattern)))
    users = db.session.scalars(query.order_by(User.jurisdiction_code, User.username).limit(500)).all()
    return render_template("org_users.html", users=users, filters=filters, places=place_choices(),
                           place_names=_place_names(), role_names=ROLES, now=services().clock.now())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new():
    if request.method == "GET":
        return _new_form({"jurisdiction_code": request.args.get("jurisdiction", "")})
    values = {key: request.form.get(key, "").strip() for key in ("username", *PROFILE_FIELDS)}
    password, confirm = request.form.get("password", ""), request.form.get("password2", "")
    errors = {}
    if db.session.scalars(select(User.id).where(User.username == values["username"])).first() is not None:
        errors["username"] = "该用户名已被使用"
    if not values["display_name"]:
        errors["display_name"] = "请填写姓名"
    if password != confirm:
        errors["password2"] = "两次输入的密码不一致"
    errors.update(_scope_errors(values))
    if not errors:
        try:
            people.save_user(db.session, values["username"], values["display_name"], values["jurisdiction_code"],
                             password=password, phone=values["phone"], backup_username=values["backup_username"])
        except PeopleError as exc:
            errors[exc.field] = str(exc)
    if errors:
        db.session.rollback()
        return _new_form(values, errors), 422
    db.session.commit()
    flash(f"已添加用户 {values['username']}，请为其授予角色", "success")
    return redirect(url_for(".detail", username=values["username"]))


@bp.route("/users/<username>", methods=["GET", "POST"])
@role_required("admin")
def detail(username):
    user = scoped_user(username)
    if request.method == "GET":
        return _page(user)
    require_manageable(user)
    values = {key: request.form.get(key, "").strip() for key in PROFILE_FIELDS}
    errors = {"display_name": "请填写姓名"} if not values["display_name"] else {}
    errors.update(_scope_errors(values))
    if not errors:
        try:
            people.save_user(db.session, user.username, values["display_name"], values["jurisdiction_code"],
                             phone=values["phone"], backup_username=values["backup_username"])
        except PeopleError as exc:
            errors[exc.field] = str(exc)
    if errors:
        db.session.rollback()
        return _page(user, "profile", values, errors), 422
    db.session.commit()
    flash("已保存基本信息", "success")
    return redirect(url_for(".detail", username=username))


@bp.route("/users/<username>/absence", methods=["POST"])
@role_required("admin")
def absence(username):
    user = scoped_user(username)
    require_manageable(user)
    if request.form.get("clear"):
        people.set_absence(user, None)
        db.session.commit()
        flash("已取消外出", "success")
        return redirect(url_for(".detail", username=username))
    values = {"absent_until": request.form.get("absent_until", "").strip()}
    try:
        until = datetime.fromisoformat(values["absent_until"]).replace(tzinfo=SHANGHAI)
    except ValueError:
        return _page(user, "absence", values, {"absent_until": "请填写外出截止的日期和时间"}), 422
    if until <= services().clock.now():
        return _page(user, "absence", values, {"absent_until": "外出截止时间应晚于现在"}), 422
    people.set_absence(user, until)
    db.session.commit()
    backup = f"，期间由 {user.backup_username} 代为办理" if user.backup_username else "（未设置 B 岗，无人代办）"
    flash(f"已设置外出至 {until.strftime('%Y-%m-%d %H:%M')}{backup}", "success")
    return redirect(url_for(".detail", username=username))


@bp.route("/users/<username>/grants", methods=["POST"])
@role_required("admin")
def add_grant(username):
    user = scoped_user(username)
    require_manageable(user)
    values = {key: request.form.get(key, "").strip() for key in ("role", "jurisdiction_code", "department_id")}
    errors = {}
    department = None
    if values["department_id"]:
        department = db.session.get(Department, int(values["department_id"])) if values["department_id"].isdigit() else None
        if department is None or not admin_scope().covers(department.jurisdiction_code):
            errors["department_id"] = "请选择您管理范围内的部门"
        elif not values["jurisdiction_code"]:
            values["jurisdiction_code"] = department.jurisdiction_code
    if values["role"] not in ROLES:
        errors["role"] = "请选择角色"
    if not values["jurisdiction_code"]:
        errors["jurisdiction_code"] = "请选择辖区"
    elif not admin_scope().covers(values["jurisdiction_code"]):
        errors["jurisdiction_code"] = "只能在您管理的辖区内授权"
    if not errors:
        try:
            people.grant(db.session, user, values["role"], values["jurisdiction_code"],
                         department.id if department else None)
        except PeopleError as exc:
            errors["department_id" if exc.field == "department" else exc.field] = str(exc)
    if errors:
        db.session.rollback()
        return _page(user, "grant", values, errors), 422
    db.session.commit()
    flash(f"已授予{ROLES[values['role']]}（{_place_names().get(values['jurisdiction_code'], values['jurisdiction_code'])}）",
          "success")
    return redirect(url_for(".detail", username=username))


@bp.route("/users/<username>/grants/<int:grant_id>/revoke", methods=["POST"])
@role_required("admin")
def revoke_grant(username, grant_id):
    user = scoped_user(username)
    require_manageable(user)
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None or not admin_scope().covers(grant.jurisdiction_code):
        abort(404)
    if is_self(user) and grant.role == "admin" and sum(g.role == "admin" for g in user.grants) == 1:
        flash("不能撤销您自己唯一的系统管理员角色，请由其他管理员操作", "error")
        return redirect(url_for(".detail", username=username))
    people.revoke(db.session, user, grant_id)
    db.session.commit()
    flash(f"已撤销{ROLES.get(grant.role, grant.role)}（{grant.jurisdiction_code}）", "success")
    return redirect(url_for(".detail", username=username))


@bp.route("/users/<username>/password", methods=["POST"])
@role_required("admin")
def reset_password(username):
    user = scoped_user(username)
    require_manageable(user)
    password, confirm = request.form.get("password", ""), request.form.get("password2", "")
    errors = {}
    if password != confirm:
        errors["password2"] = "两次输入的密码不一致"
    else:
        try:
            people.set_password(user, password)
        except PeopleError as exc:
            errors[exc.field] = str(exc)
    if errors:
        db.session.rollback()
        return _page(user, "password", {}, errors), 422  # passwords are never sent back to the page
    db.session.commit()
    flash("已重设密码（同时解除锁定），请通知本人登录后尽快修改", "success")
    return redirect(url_for(".detail", username=username))


@bp.route("/users/<username>/unlock", methods=["POST"])
@role_required("admin")
def unlock(username):
    user = scoped_user(username)
    require_manageable(user)
    people.unlock(user)
    db.session.commit()
    flash("已解除锁定", "success")
    return redirect(url_for(".detail", username=username))


@bp.route("/users/<username>/active", methods=["POST"])
@role_required("admin")
def set_active(username):
    user = scoped_user(username)
    require_manageable(user)
    active = request.form.get("active") == "1"
    if not active and is_self(user):
        flash("不能停用您自己的账户", "error")
        return redirect(url_for(".detail", username=username))
    people.set_active(user, active)
    db.session.commit()
    flash("已启用账户" if active else "已停用账户，该用户将无法登录", "success")
    return redirect(url_for(".detail", username=username))


# -- rendering ------------------------------------------------------------------------------------

def _scope_errors(values: dict) -> dict:
    errors = {}
    if values["jurisdiction_code"] and not admin_scope().covers(values["jurisdiction_code"]):
        errors["jurisdiction_code"] = "请选择您管理范围内的辖区"
    backup = values.get("backup_username")
    if backup:
        other = db.session.scalars(select(User).where(User.username == backup)).one_or_none()
        if other is None or not admin_scope().covers(other.jurisdiction_code):
            errors["backup_username"] = f"B 岗用户 {backup} 不存在或不在您的管理范围内"
    return errors


def _new_form(values: dict, errors: dict | None = None):
    return render_template("org_user_new.html", values=values, errors=errors or {}, places=place_choices())


def _page(user: User, form: str | None = None, values: dict | None = None, errors: dict | None = None):
    """The user page; `form` names the section whose submitted `values` and `errors` are shown."""
    profile = {"display_name": user.display_name, "jurisdiction_code": user.jurisdiction_code,
               "phone": user.phone or "", "backup_username": user.backup_username or ""}
    forms = {"profile": profile, "absence": {}, "grant": {}, "password": {}}
    if form:
        forms[form] = values or {}
    department_names = {d.id: d.name for d in db.session.scalars(select(Department).where(
        Department.id.in_([g.department_id for g in user.grants if g.department_id])))}
    now = services().clock.now()
    names = _place_names()
    departments = departments_in_scope(active_only=True)
    return render_template(
        "org_user.html", user=user, forms=forms, form=form, errors=errors or {}, role_names=ROLES,
        places=place_choices(), place_names=names,
        department_names=department_names, manageable=admin_scope().may_manage(user), is_self=is_self(user),
        covers=admin_scope().covers, locked=people.is_locked(user, now), absent=people.is_absent(user, now),
        department_options=[(d.id, f"{names.get(d.jurisdiction_code, d.jurisdiction_code)} · {d.name}") for d in departments])


def _place_names() -> dict[str, str]:
    return dict(db.session.execute(select(Jurisdiction.code, Jurisdiction.name)).all())
