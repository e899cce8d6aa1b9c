"""网格员: reporting a dispute from a phone, with photos of the scene, and following one's reports.

The report asks only what a grid worker can know on the spot; the category may be left as 其他纠纷
for 研判 to settle. Everything (the intake form of the category at the place, every photo) is checked
before anything is stored; the case and its photos are then committed together or not at all.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import func, select

from engine import jurisdictions
from engine.attachments import safe_filename
from engine.case_progress import case_progress
from engine.errors import FormInvalid, Forbidden
from engine.models import Attachment, Case

from . import form_render
from .attachments import attachment_store, uploaded_files
from .extensions import db
from .services import services
from .session_user import current_actor, role_required

bp = Blueprint("grid", __name__)

ROLE = "grid_worker"
CHANNEL = "grid"  # the intake forms' 来源渠道 网格员上报
DEFAULT_CATEGORY = "other"  # 其他纠纷: the grid worker need not know; 研判 decides
# The form's own fields, underscored so no intake schema field can clash.
CATEGORY_FIELD, PLACE_FIELD = "_category", "_place"
# What a grid worker is asked besides what the category's intake form requires.
ASKED_FIELDS = ("title", "summary", "address", "applicant_name", "applicant_phone", "respondent_name",
                "respondent_phone")
RECENT_REPORTS = 30
PHOTOS_AGAIN = "出于安全原因，浏览器不会保留已选择的照片：请重新选择照片后再提交。"


@bp.route("/grid")
@role_required(ROLE)
def index():
    """The grid worker's own recent reports, each with where it stands in plain words."""
    actor = current_actor()
    cases = list(db.session.scalars(
        select(Case).where(Case.created_by == actor.username, actor.case_filter())
        .order_by(Case.created_at.desc(), Case.id.desc()).limit(RECENT_REPORTS)))
    photos = dict(db.session.execute(
        select(Attachment.case_id, func.count()).where(Attachment.case_id.in_([c.id for c in cases]))
        .group_by(Attachment.case_id)).all()) if cases else {}
    reports = [(case, case_progress(db.session, case), photos.get(case.id, 0)) for case in cases]
    reported_id = request.args.get("reported", type=int)
    reported = next((row for row in reports if row[0].id == reported_id), None)
    return render_template("grid_index.html", reports=reports, reported=reported)


@bp.route("/grid/report", methods=["GET", "POST"])
@role_required(ROLE)
def report():
    actor = current_actor()
    categories = services().registry.categories
    places = _places(actor)
    default_place = _default_place(actor, places)
    if request.method == "GET":
        return _render(categories, _known(categories, DEFAULT_CATEGORY), places, default_place, default_place, {})

    errors: dict[str, str] = {}
    category = request.form.get(CATEGORY_FIELD, "")
    if category not in categories:
        errors[CATEGORY_FIELD] = "请选择纠纷类别（不清楚可选“其他纠纷”）"
    place = request.form.get(PLACE_FIELD, "").strip()
    if place not in {p["code"] for p in places}:
        errors[PLACE_FIELD] = "请选择纠纷发生的网格或村（社区）"
    # The intake form of the version in force at the place (a county may ask for more).
    form_place = default_place if PLACE_FIELD in errors else place
    form = services().runtime.intake_form(db.session, _known(categories, category), form_place)
    shown = _shown_fields(form.schema)
    submission = form_render.parse_submission(form.schema, {k: v for k, v in request.form.items() if k in shown})
    intake = {**submission.data, "channel": CHANNEL}
    field_errors, general = form_render.split_errors(
        form.schema, form_render.validation_errors(form, intake), submission.errors)
    errors.update(field_errors)
    store = attachment_store()
    files = uploaded_files()
    checked, problems = store.check_all(files)
    chosen = [name for name, _data in files]
    if errors or general or problems:
        return _render(categories, category, places, place, form_place, submission.raw, errors, general, problems,
                       chosen, status=422)

    now = services().clock.now()
    try:
        with store.batch(db.session) as batch:
            case = services().runtime.start_case(db.session, category, intake, place, actor, commit=False)
            for item in checked:
                batch.add(case, item, actor.username, now)
            batch.log(case, actor.username, now)
            db.session.commit()
    except FormInvalid as exc:  # a new version came into force between the check and now
        field_errors, general = form_render.split_errors(form.schema, exc.errors)
        return _render(categories, category, places, place, form_place, submission.raw, field_errors, general,
                       chosen=chosen, status=422)
    except Forbidden:
        return _render(categories, category, places, place, form_place, submission.raw,
                       {PLACE_FIELD: "不在您的网格范围内"}, chosen=chosen, status=422)
    except OSError as exc:
        current_app.logger.error("storing a grid report's photos failed: %s", exc)
        return _render(categories, category, places, place, form_place, submission.raw,
                       general=["照片保存失败，本次上报未提交（案件未登记）。请稍后重试；如仍失败请联系系统管理员。"],
                       chosen=chosen, status=500)
    return redirect(url_for("grid.index", reported=case.id))


def _known(categories: dict, code: str) -> str:
    """`code` if it is a category, else 其他纠纷 (or, in a deployment without it, the first one)."""
    if code in categories:
        return code
    return DEFAULT_CATEGORY if DEFAULT_CATEGORY in categories else next(iter(categories), "")


def _in_menu_order(categories: dict) -> list:
    """其他纠纷 first (the default when unsure), then the rest by name, as 登记纠纷 lists them."""
    return sorted(categories.values(), key=lambda c: (c.code != DEFAULT_CATEGORY, c.name))


def _shown_fields(schema: dict) -> list[str]:
    """The intake fields on the mobile form: the usual few, plus whatever the category requires
    (a 劳动争议 needs the employer), never the channel, which is always 网格员上报."""
    required = set(schema.get("required", []))
    return [name for name in form_render.properties(schema)
            if name != "channel" and (name in ASKED_FIELDS or name in required)]


def _places(actor) -> list[dict]:
    """The grids and villages the worker reports from: what their grid-worker grants cover."""
    places, seen = [], set()
    for grant in sorted(actor.grants, key=lambda g: g.jurisdiction_code):
        if grant.role != ROLE:
            continue
        rows = [row for row in jurisdictions.subtree(db.session, grant.jurisdiction_code)
                if row.level in ("village", "grid")]
        # Without an organisation tree the grant's own code is the only place (shown as the code).
        for code, name in [(row.code, row.name) for row in rows] or [(grant.jurisdiction_code, "")]:
            if code not in seen:
                seen.add(code)
                places.append({"code": code, "label": name or code})
    return places


def _default_place(actor, places: list[dict]) -> str:
    """The worker's own grid (their unit) if they report there, else the first place they hold."""
    codes = [p["code"] for p in places]
    if actor.jurisdiction_code in codes:
        return actor.jurisdiction_code
    return codes[0] if codes else ""


def _render(categories, category, places, place, form_place, values, errors=None, general=None, problems=(),
            chosen=(), status=200):
    """The report form, filled with what was typed and each problem next to its field or photo."""
    errors, general = dict(errors or {}), list(general or [])
    schema = services().runtime.intake_form(db.session, _known(categories, category), form_place).schema
    shown = _shown_fields(schema)
    props = form_render.properties(schema)
    for name in [n for n in errors if n in props and n not in shown]:  # no field on the page to show it by
        general.append(f"{props[name].get('title', name)}：{errors.pop(name)}")
    store = attachment_store()
    by_name = {problem.filename: problem.message for problem in problems if problem.filename}
    html = render_template(
        "grid_report.html", categories=_in_menu_order(categories),
        category=category if category in categories else "", default_category=DEFAULT_CATEGORY,
        places=places, place=place, errors=errors, general_errors=general,
        fields=[f for f in form_render.field_views(schema, values, errors) if f.name in shown],
        count_errors=[problem.message for problem in problems if not problem.filename],
        chosen=[(safe_filename(name), by_name.get(safe_filename(name), "")) for name in chosen],
        photos_again=PHOTOS_AGAIN, category_field=CATEGORY_FIELD, place_field=PLACE_FIELD,
        max_photos=store.max_per_report, max_megabytes=store.max_size // (1024 * 1024),
        formats=store.accepted_formats(),
    )
    return html, status
