"""案件: the list, registering a dispute (登记纠纷) and one case's page."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine import jurisdictions
from engine.actors import REGISTERING_ROLES
from engine.assignment import allowed_actions
from engine.cockpit_metrics import QueryError
from engine.errors import FormInvalid, Forbidden, UnknownCategory
from engine.queries import STATUS_NAMES, case_events, case_list, case_tasks, case_timers, deadline_state, get_case
from engine.duplicates import LinkError, repeat_counts
from engine.queries import case_count
from engine.variant_lookup import ancestors

from . import form_render
from . import duplicates
from . import triage
from .attachments import attachment_rows
from .cockpit_drill import drill_down
from .errors import error_page
from .case_view import display_names, source_of, document_rows, intake_rows, timeline, timer_rows
from .case_diagram import case_diagram
from .extensions import db
from .services import services
from .session_user import current_actor, current_user, login_required, role_required

bp = Blueprint("cases", __name__)

# 行政区划代码: 6 digits for a county and above, 9 for a township, 12 for a village, longer for a grid.
JURISDICTION_CODE = re.compile(r"^\d{6,20}$")
# Names of the registration form's own fields; underscored so no intake schema field can clash.
CATEGORY_FIELD, JURISDICTION_FIELD = "_category", "_jurisdiction"


@bp.route("/cases")
@login_required
def index():
    if "metric" in request.args:  # the cases behind a cockpit number (web/cockpit_drill.py)
        return _drill_down()
    status = request.args.get("status") or None
    if status not in STATUS_NAMES:
        status = None
    repeat_only = request.args.get("repeat") == "1"  # 重复投诉
    actor = current_actor()
    cases = case_list(db.session, actor, status=status, repeat_only=repeat_only)
    names = {code: category.name for code, category in services().registry.categories.items()}
    return render_template("case_list.html", cases=cases, status=status, statuses=STATUS_NAMES,
                           category_names=names, repeat_only=repeat_only,
                           total=case_count(db.session, actor, status=status),
                           repeat_total=repeat_counts(db.session, actor, status=status).total)


def _drill_down():
    names = {code: category.name for code, category in services().registry.categories.items()}
    try:
        drill = drill_down(current_actor(), request.args, services().clock.now(), names)
    except QueryError as exc:
        return error_page(400, f"统计条件无法识别：{exc}")
    return render_template("case_list.html", cases=drill.cases, drill=drill, status=None, statuses=STATUS_NAMES,
                           category_names=names, repeat_only=False, total=drill.total, repeat_total=None)


@bp.route("/cases/new", methods=["GET", "POST"])
@role_required("clerk")
def new():
    actor = current_actor()
    chain = ancestors(db.session, current_actor().jurisdiction_code)
    categories = {code: category for code, category in services().registry.categories.items()
                  if category.offered_at(chain)}  # a county's own category is not offered elsewhere
    code = request.values.get(CATEGORY_FIELD) or request.values.get("category")
    if code is None:
        if triage.triage_on(actor.jurisdiction_code):
            return redirect(url_for("triage.index"))  # 一窗分诊: the guide desk comes first (web/triage.py)
        # The clerk picks the category first: each has its own intake form and process.
        return render_template("case_new.html", categories=_by_name(categories), category=None)
    if code not in categories:
        abort(404)
    category = categories[code]
    jurisdiction = request.form.get(JURISDICTION_FIELD, "").strip() if request.method == "POST" else ""
    jurisdiction_error = _jurisdiction_error(jurisdiction) if request.method == "POST" else ""
    # The form of the version in force at the place (a county may ask for more); before a place is
    # chosen, at the clerk's own unit.
    place = jurisdiction if jurisdiction and not jurisdiction_error else actor.jurisdiction_code
    intake_form = services().runtime.intake_form(db.session, category.code, place)
    schema = intake_form.schema
    if request.method == "GET":
        return _render_new(categories, category, schema, {}, actor.jurisdiction_code)

    submission = form_render.parse_submission(schema, request.form)
    engine_errors = form_render.validation_errors(intake_form, submission.data)
    if submission.errors or jurisdiction_error or engine_errors:
        per_field, general = form_render.split_errors(schema, engine_errors, submission.errors)
        return _render_new(categories, category, schema, submission.raw, jurisdiction, per_field, general,
                           jurisdiction_error), 422
    # 重复件: earlier cases this may repeat; the clerk decides before anything is stored (web/duplicates.py).
    check = duplicates.check_submission(actor, category.code, submission.data, jurisdiction)
    if check.needs_decision:
        return _render_new(categories, category, schema, submission.raw, jurisdiction,
                           general_errors=[check.error] if check.error else None,
                           duplicate_check=check), 422 if check.error else 200
    if check.decision == "merge":
        earlier = duplicates.merge(actor, check, submission.data, jurisdiction)
        flash(f"未新建案件：来件已并入案件 {earlier.code}，登记内容已记入其办理记录", "success")
        return redirect(url_for("cases.detail", case_id=earlier.id))
    try:
        case = services().runtime.start_case(db.session, category.code, submission.data, jurisdiction, actor,
                                             commit=False)
        duplicates.record(actor, case, check)
        db.session.commit()
    except LinkError as exc:
        db.session.rollback()
        return _render_new(categories, category, schema, submission.raw, jurisdiction,
                           general_errors=[str(exc)], duplicate_check=check), 422
    except FormInvalid as exc:
        per_field, general = form_render.split_errors(schema, exc.errors)
        return _render_new(categories, category, schema, submission.raw, jurisdiction, per_field, general), 422
    except Forbidden:
        return _render_new(categories, category, schema, submission.raw, jurisdiction,
                           jurisdiction_error="不在您的管辖范围内"), 422
    except UnknownCategory:
        abort(404)
    flash(f"已登记，案件编号 {case.code}", "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.route("/cases/<int:case_id>")
@login_required
def detail(case_id: int):
    actor = current_actor()
    case = get_case(db.session, actor, case_id)
    events = case_events(db.session, case)
    tasks = _in_creation_order(case_tasks(db.session, case), events)
    now = services().clock.now()
    category = services().registry.categories.get(case.category_code)
    return render_template(
        "case_detail.html", case=case, category_name=category.name if category else case.category_code,
        tasks=tasks, deadline_states={t.id: deadline_state(t, now) for t in tasks if t.state == "ready"},
        actionable=_actionable(tasks, actor),
        names=display_names([t.completed_by or t.claimed_by for t in tasks] + [case.created_by]),
        source=source_of(case),
        timers=timer_rows(case, case_timers(db.session, case)),
        intake=intake_rows(case), timeline=timeline(case, events, tasks), documents=document_rows(case),
        attachments=attachment_rows(case), diagram=case_diagram(case),
    )


def _actionable(tasks, actor) -> dict[str, list[str]]:
    """Task id → what the user may do to it (engine.assignment), for the tasks where that is anything."""
    has_backup = bool(current_user().backup_username)
    actions = {t.id: allowed_actions(t, actor, has_backup=has_backup) for t in tasks if t.state == "ready"}
    return {task_id: allowed for task_id, allowed in actions.items() if allowed}


def _in_creation_order(tasks, events):
    """Tasks in the order they became ready.

    Tasks created in one engine run share a timestamp and their ids are UUIDs, so the event log
    (sequential ids) is the only faithful order.
    """
    position = {event.task_id: index for index, event in enumerate(events) if event.kind == "task_created"}
    return sorted(tasks, key=lambda task: (position.get(task.id, len(position)), task.created_at))


def _jurisdiction_error(code: str) -> str:
    if not JURISDICTION_CODE.match(code):
        return "行政区划代码应为6至20位数字"
    if not current_actor().can_register(code):
        return "不在您的管辖范围内"
    return ""


def _registration_places(actor) -> list[dict]:
    """The places a clerk may register a dispute at, as an indented tree (empty if no tree is set up)."""
    places, seen = [], set()
    for grant in actor.grants:
        if grant.role not in REGISTERING_ROLES:
            continue
        for row in jurisdictions.subtree(db.session, grant.jurisdiction_code):
            if row.code not in seen:
                seen.add(row.code)
                depth = jurisdictions.LEVELS.index(row.level) - jurisdictions.LEVELS.index("county")
                places.append({"code": row.code, "name": row.name, "depth": max(depth, 0)})
    return places


def _render_new(categories, category, schema, values, jurisdiction, field_errors=None, general_errors=None,
                jurisdiction_error="", duplicate_check=None):
    return render_template(
        "case_new.html", categories=_by_name(categories), category=category, jurisdiction=jurisdiction,
        fields=form_render.field_views(schema, values, field_errors), general_errors=general_errors or [],
        jurisdiction_error=jurisdiction_error, category_field=CATEGORY_FIELD, jurisdiction_field=JURISDICTION_FIELD,
        places=_registration_places(current_actor()), duplicate_check=duplicate_check,
    )


def _by_name(categories: dict) -> dict:
    """Categories in the order a clerk looks for them: by Chinese name (pinyin order is not needed)."""
    return dict(sorted(categories.items(), key=lambda item: item[1].name))
