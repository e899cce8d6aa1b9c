"""Administration: the working-day calendar overrides (调休 and holidays the library does not know)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.calendar_store import set_override
from engine.models import CalendarOverride

from .extensions import db
from .services import services
from .session_user import current_actor, role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

DAY_KINDS = {"workday": "工作日", "restday": "休息日"}


@bp.route("/calendar", methods=["GET", "POST"])
@role_required("admin")
def calendar():
    if request.method == "GET":
        return _render({})
    values = {key: request.form.get(key, "").strip() for key in ("day", "kind", "note")}
    errors = {}
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        errors["day"] = "请填写日期（YYYY-MM-DD）"
    if values["kind"] not in DAY_KINDS:
        errors["kind"] = "请选择工作日或休息日"
    if len(values["note"]) > 200:
        errors["note"] = "不能超过 200 个字符"
    if errors:
        return _render(values, errors), 422
    set_override(db.session, day, values["kind"] == "workday", values["note"], current_actor().username,
                 services().clock.now())
    db.session.commit()
    # Deadlines counted on a guessed (weekday-only) calendar are recomputed with the new ruling.
    recomputed = services().runtime.recompute_provisional_deadlines(db.session)
    flash(f"已设置 {day.isoformat()} 为{DAY_KINDS[values['kind']]}"
          + (f"，已重算 {recomputed} 件案件的暂定期限" if recomputed else ""), "success")
    return redirect(url_for("admin.calendar"))


def _render(values: dict, errors: dict | None = None):
    # Rulings for everywhere (""); a jurisdiction's own rulings come from its variant or the CLI.
    overrides = db.session.scalars(select(CalendarOverride).where(CalendarOverride.jurisdiction_code == "")
                                   .order_by(CalendarOverride.day)).all()
    return render_template("admin_calendar.html", overrides=overrides, values=values, errors=errors or {},
                           day_kinds=DAY_KINDS)
