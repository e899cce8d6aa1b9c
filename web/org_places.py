"""Organisation pages: the 辖区 tree and the departments stationed at each center."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from engine import jurisdictions
from engine.jurisdictions import LEVEL_NAMES, LEVELS, TreeError
from engine.models import Department, HumanTask, RoleGrant, User
from engine.people import PRESENCE, PeopleError, find_department, save_department

from .extensions import db
from .org_access import admin_scope, places_in_scope, scoped_department, scoped_jurisdiction
from .session_user import role_required

bp = Blueprint("places", __name__)

PLACE_FIELDS = ("code", "name", "level", "center_name")
DEPARTMENT_FIELDS = ("code", "name", "presence", "rotation_start", "rotation_end")


@bp.route("/jurisdictions")
@role_required("admin")
def tree():
    rows = places_in_scope()
    depth: dict[str, int] = {}
    for row in rows:  # code order puts every parent before its children
        depth[row.code] = depth[row.parent_code] + 1 if row.parent_code in depth else 0
    counts = dict(db.session.execute(select(Department.jurisdiction_code, func.count()).where(
        admin_scope().condition(Department.jurisdiction_code)).group_by(Department.jurisdiction_code)).all())
    missing = [root for root in admin_scope().roots if root not in depth]
    return render_template("org_tree.html", rows=[(row, depth[row.code]) for row in rows], counts=counts,
                           missing=missing, level_names=LEVEL_NAMES)


@bp.route("/jurisdictions/new", methods=["GET", "POST"])
@role_required("admin")
def new_place():
    parent = scoped_jurisdiction(request.values.get("parent", ""))
    if request.method == "GET":
        return _place_form(parent, None, {"code": parent.code, "level": _next_level(parent.level)})
    values = _values(PLACE_FIELDS)
    errors = {}
    if jurisdictions.get(db.session, values["code"]) is not None:
        errors["code"] = "该代码已存在"
    elif not admin_scope().covers(values["code"]):
        errors["code"] = f"代码应以 {parent.code} 开头"
    if not errors:
        errors = _save_place(values, parent.code)
    if errors:
        return _place_form(parent, None, values, errors), 422
    flash(f"已添加辖区：{values['name']}", "success")
    return redirect(url_for(".tree"))


@bp.route("/jurisdictions/<code>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_place(code):
    row = scoped_jurisdiction(code)
    parent = jurisdictions.get(db.session, row.parent_code) if row.parent_code else None
    if request.method == "GET":
        values = {"code": row.code, "name": row.name, "level": row.level, "center_name": row.center_name or ""}
        return _place_form(parent, row, values)
    values = {**_values(PLACE_FIELDS), "code": row.code}
    errors = _save_place(values, row.parent_code)
    if errors:
        return _place_form(parent, row, values, errors), 422
    flash(f"已保存辖区：{values['name']}", "success")
    return redirect(url_for(".tree"))


def _save_place(values: dict, parent_code: str | None) -> dict:
    if not admin_scope().may_place(values["code"], parent_code):
        abort(404)
    try:
        jurisdictions.save(db.session, values["code"], values["name"], values["level"], parent_code,
                           values["center_name"])
    except TreeError as exc:
        db.session.rollback()
        return {exc.field: str(exc)}
    db.session.commit()
    return {}


def _place_form(parent, row, values: dict, errors: dict | None = None):
    floor = LEVELS.index(parent.level) + 1 if parent is not None else 0
    return render_template("org_place_form.html", parent=parent, row=row, values=values, errors=errors or {},
                           levels=[(code, LEVEL_NAMES[code]) for code in LEVELS[floor:]])


def _next_level(level: str) -> str:
    index = LEVELS.index(level) + 1
    return LEVELS[index] if index < len(LEVELS) else ""


# -- departments ----------------------------------------------------------------------------------

@bp.route("/jurisdictions/<code>/departments", methods=["GET", "POST"])
@role_required("admin")
def departments(code):
    center = scoped_jurisdiction(code)
    if request.method == "GET":
        return _departments_page(center, {"presence": "resident"})
    values = _values(DEPARTMENT_FIELDS)
    errors = {"code": "该中心已有此代码的部门"} if find_department(db.session, code, values["code"]) else {}
    errors = errors or _save_department(center.code, values, active=True)
    if errors:
        return _departments_page(center, values, errors), 422
    flash(f"已添加部门：{values['name']}", "success")
    return redirect(url_for(".departments", code=code))


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_department(department_id):
    row = scoped_department(department_id)
    center = scoped_jurisdiction(row.jurisdiction_code)
    if request.method == "GET":
        values = {"code": row.code, "name": row.name, "presence": row.presence, "active": row.active,
                  "rotation_start": row.rotation_start.isoformat() if row.rotation_start else "",
                  "rotation_end": row.rotation_end.isoformat() if row.rotation_end else ""}
        return _department_form(center, row, values)
    values = {**_values(DEPARTMENT_FIELDS), "code": row.code, "active": request.form.get("active") == "1"}
    errors = _save_department(center.code, values, active=values["active"])
    if errors:
        return _department_form(center, row, values, errors), 422
    flash(f"已保存部门：{values['name']}", "success")
    return redirect(url_for(".departments", code=center.code))


def _save_department(center_code: str, values: dict, active: bool) -> dict:
    errors, dates = {}, {}
    for key in ("rotation_start", "rotation_end"):
        try:
            dates[key] = date.fromisoformat(values[key]) if values[key] else None
        except ValueError:
            errors[key] = "日期格式不正确（YYYY-MM-DD）"
    if values["presence"] not in PRESENCE:
        errors["presence"] = "请选择入驻方式"
    if errors:
        return errors
    try:
        save_department(db.session, center_code, values["code"], values["name"], values["presence"],
                        dates["rotation_start"], dates["rotation_end"], active=active)
    except PeopleError as exc:
        db.session.rollback()
        return {exc.field: str(exc)}
    db.session.commit()
    return {}


def _departments_page(center, values: dict, errors: dict | None = None):
    rows = db.session.scalars(select(Department).where(Department.jurisdiction_code == center.code)
                              .order_by(Department.active.desc(), Department.code)).all()
    ids = [row.id for row in rows]
    liaisons: dict[int, list[User]] = {}
    queue: dict[int, int] = {}
    if ids:
        for department_id, user in db.session.execute(select(RoleGrant.department_id, User).join(
                User, User.id == RoleGrant.user_id).where(RoleGrant.role == "liaison",
                                                          RoleGrant.department_id.in_(ids)).order_by(User.username)):
            liaisons.setdefault(department_id, []).append(user)
        queue = dict(db.session.execute(select(HumanTask.department_id, func.count()).where(
            HumanTask.department_id.in_(ids), HumanTask.state == "ready").group_by(HumanTask.department_id)).all())
    return render_template("org_departments.html", center=center, rows=rows, liaisons=liaisons, queue=queue,
                           values=values, errors=errors or {}, presence=PRESENCE)


def _department_form(center, row, values: dict, errors: dict | None = None):
    return render_template("org_department_form.html", center=center, row=row, values=values,
                           errors=errors or {}, presence=PRESENCE)


def _values(names) -> dict:
    return {name: request.form.get(name, "").strip() for name in names}
