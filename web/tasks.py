"""我的待办 and doing one task through its form."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine.errors import ConflictError, FormInvalid
from engine.models import HumanTask
from engine.queries import deadline_state, get_task, inbox as inbox_query, task_extensions

from . import form_render
from .assignment_view import INBOX_VIEWS, assignment_for, inbox_rows
from .case_view import intake_rows
from .extensions import db
from .services import services
from .session_user import current_actor, current_user, login_required

bp = Blueprint("tasks", __name__)

TASK_GONE = "该任务已被他人办理或已撤回"


@bp.route("/")
def index():
    return redirect(url_for("tasks.inbox"))


@bp.route("/tasks")
@login_required
def inbox():
    user = current_user()
    actor = current_actor()
    if user.grants and all(grant.role == "grid_worker" for grant in user.grants):
        # A 网格员's page is 上报纠纷, unless a process gave them work in their grid (工业街道's 小事).
        if not inbox_query(db.session, actor):
            return redirect(url_for("grid.index"))
    view = request.args.get("view") if request.args.get("view") in INBOX_VIEWS else "all"
    rows = inbox_rows(db.session, actor, inbox_query(db.session, actor), services().clock.now(),
                      has_backup=bool(current_user().backup_username))
    counts = {key: sum(1 for row in rows if key in ("all", row.view)) for key in INBOX_VIEWS}
    return render_template("inbox.html", rows=[row for row in rows if view in ("all", row.view)],
                           view=view, views=INBOX_VIEWS, counts=counts)


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@login_required
def task(task_id: str):
    if request.method == "GET":
        return task_page(task_id)
    actor = current_actor()
    row, case = get_task(db.session, actor, task_id)
    form = services().runtime.form(db.session, case, row.form)
    if row.state != "ready":
        return _render(row, case, form, {}, conflict=TASK_GONE), 409
    if "complete" not in services().assignments.actions_for(db.session, row, actor):
        abort(403)  # claimed by someone else, or not in the user's queue (engine.assignment)
    submission = form_render.parse_submission(form.schema, request.form)
    if submission.errors:
        # Still ask the engine about the other fields, so the user sees every problem at once.
        engine_errors = form_render.validation_errors(form, submission.data)
        per_field, general = form_render.split_errors(form.schema, engine_errors, submission.errors)
        return _render(row, case, form, submission.raw, per_field, general), 422
    try:
        case = services().runtime.complete_task(db.session, task_id, submission.data, actor)
    except FormInvalid as exc:
        per_field, general = form_render.split_errors(form.schema, exc.errors)
        return _render(row, case, form, submission.raw, per_field, general), 422
    except ConflictError:
        # The runtime rolled back; show the task as it now stands.
        row, case = get_task(db.session, actor, task_id)
        return _render(row, case, form, submission.raw, conflict=TASK_GONE), 409
    flash(f"已办理：{row.name}", "success")
    return redirect(url_for("cases.detail", case_id=case.id))


def task_page(task_id: str):
    """The task page as it now stands: also what a refused or lost 认领/改派 shows (web.task_actions)."""
    row, case = get_task(db.session, current_actor(), task_id)
    form = services().runtime.form(db.session, case, row.form)
    return _render(row, case, form, form_render.display_values(form.schema, row.form_defaults))


def _render(row: HumanTask, case, form, values, field_errors=None, general_errors=None, conflict=None):
    actor = current_actor()
    assignment = assignment_for(db.session, row, actor, services().assignments) if row.state == "ready" else None
    category = services().registry.categories.get(case.category_code)
    meta = services().runtime.task_meta(db.session, case, row.element_id)
    return render_template(
        "task.html", task=row, case=case, form=form,
        category_name=category.name if category else case.category_code,
        fields=form_render.field_views(form.schema, values, field_errors),
        general_errors=general_errors or [], conflict=conflict,
        assignment=assignment, can_act=assignment is not None and "complete" in assignment.actions and conflict is None,
        deadline_state=deadline_state(row, services().clock.now()) if row.state == "ready" else None,
        intake=intake_rows(case), meta=meta, extensions=task_extensions(db.session, row),
    )
