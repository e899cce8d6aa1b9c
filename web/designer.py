"""流程设计: designers edit a category's BPMN in the browser (bpmn-js), save drafts, see problems on
the elements, compare with the version in force and publish. A thin layer over engine/drafts.py.

A designer reaches the drafts of the jurisdictions they hold the designer (流程设计员) role over
and the levels below; any other draft answers 404, as if it did not exist. The page's JavaScript
(web/static/designer.js) talks to the JSON endpoints below with the page's CSRF token.
"""
from __future__ import annotations

from pathlib import Path

from flask import (Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_from_directory,
                   url_for)
from sqlalchemy import select

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.case_progress import STAGE_TEXT
from engine.documents import DOCUMENT_TYPES
from engine.draft_files import DraftFileError
from engine.draft_forms import draft_forms
from engine.drafts import DESIGNER, DraftConflict, compare, open_draft, publish_draft, save_draft, upload
from engine.errors import VersionError
from engine.actors import code_covers
from engine.models import DesignedCategory, ProcessDraft, ProcessVersion
from engine.problems import Problem
from engine.task_meta import CASE_STATUSES, ROLES, TASK_ROLES, TIMER_KINDS
from engine.versions import label

from .extensions import db
from .services import services
from .session_user import current_actor, role_required

bp = Blueprint("designer", __name__)

PACKAGE_DIR = Path(__file__).resolve().parent / "designer"
# The only folders of node_modules the browser may read: the packages' prebuilt bundles and CSS
# (echarts draws the cockpit's trends, web/cockpit.py).
VENDOR_DIRS = {"bpmn-js": "dist", "dmn-js": "dist", "echarts": "dist"}
DEADLINE_UNITS = ("日", "工作日", "小时", "分钟")
TIMER_KIND_NAMES = {"warning": "预警", "overdue": "超期", "escalate": "升级督办", "expire": "期满"}
STATE_NAMES = {"draft": "编辑中", "awaiting_approval": "待审核", "published": "已发布", "discarded": "已放弃"}


@bp.get("/designer/vendor/<package>/<path:path>")
def vendor(package: str, path: str):
    """A file of an allowed package's dist folder (bpmn-js, dmn-js), installed by scripts/setup.sh."""
    if package not in VENDOR_DIRS:
        abort(404)
    root = Path(current_app.config.get("DESIGNER_NODE_MODULES") or PACKAGE_DIR / "node_modules")
    return send_from_directory(root / package / VENDOR_DIRS[package], path, max_age=3600)


@bp.get("/designer")
@role_required(DESIGNER)
def index():
    actor = current_actor()
    registry = services().registry
    levels = designer_levels(actor)
    drafts = [draft for draft in db.session.scalars(
        select(ProcessDraft).where(ProcessDraft.state.in_(("draft", "awaiting_approval")))
        .order_by(ProcessDraft.saved_at.desc(), ProcessDraft.id.desc())) if _may_edit(actor, draft)]
    categories = sorted((c for c in registry.categories.values() if _designs_for(actor, c)), key=lambda c: c.code)
    names = {row.code: row.name for row in db.session.scalars(select(DesignedCategory))}  # drafts not yet published
    return render_template("designer_index.html", categories=categories, drafts=drafts, state_names=STATE_NAMES,
                           levels=[(code, label(db.session, registry, code)) for code in levels],
                           category_names={**names, **{c.code: c.name for c in categories}},
                           vendor_ready=vendor_ready())


@bp.post("/designer/drafts")
@role_required(DESIGNER)
def new_draft():
    actor = current_actor()
    category_code = request.form.get("category", "")
    jurisdiction_code = request.form.get("jurisdiction", "")
    if category_code not in services().registry.categories:
        abort(404)
    if jurisdiction_code not in designer_levels(actor):
        abort(403)
    draft = open_draft(db.session, services().registry, category_code, jurisdiction_code, actor,
                       services().clock.now())
    db.session.commit()
    return redirect(url_for("designer.draft", draft_id=draft.id)), 303


@bp.get("/designer/drafts/<int:draft_id>")
@role_required(DESIGNER)
def draft(draft_id: int):
    found = _draft(draft_id)
    registry = services().registry
    category = registry.categories.get(found.category_code) or db.session.get(DesignedCategory, found.category_code)
    return render_template("designer_draft.html", draft=found, state_names=STATE_NAMES,
                           category_name=category.name if category else found.category_code,
                           place=label(db.session, registry, found.jurisdiction_code),
                           forms=sorted(set(registry.forms.names()) | set(draft_forms(found.files))),
                           task_roles=[(code, ROLES[code]) for code in TASK_ROLES], units=DEADLINE_UNITS,
                           document_types=[(t.code, t.title) for t in DOCUMENT_TYPES.values()],
                           timer_kinds=[(kind, TIMER_KIND_NAMES[kind]) for kind in TIMER_KINDS],
                           case_statuses=[(status, STAGE_TEXT[status]) for status in CASE_STATUSES],
                           vendor_ready=vendor_ready())


@bp.get("/designer/drafts/<int:draft_id>/files")
@role_required(DESIGNER)
def files(draft_id: int):
    return jsonify(_state(_draft(draft_id)))


@bp.post("/designer/drafts/<int:draft_id>/save")
@role_required(DESIGNER)
def save(draft_id: int):
    found = _draft(draft_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("files"), dict) \
            or not isinstance(body.get("expected_revision"), int) \
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in body["files"].items()):
        return jsonify(message="请求内容应为 {files: {文件名: 文本}, expected_revision: 修订号}"), 400
    saved, refusal = save_files(found, body["files"], body["expected_revision"], str(body.get("note") or ""))
    return refusal or jsonify(_state(saved))


@bp.post("/designer/drafts/<int:draft_id>/upload")
@role_required(DESIGNER)
def upload_file(draft_id: int):
    found = _draft(draft_id)
    sent = request.files.get("file")
    try:
        expected = int(request.form.get("expected_revision", ""))
    except ValueError:
        expected = None
    if sent is None or expected is None:
        return jsonify(message="请选择 .bpmn 或 .dmn 文件"), 400
    try:
        done = upload(db.session, services().registry, found.id, sent.filename or "", sent.read(), expected,
                      current_actor(), services().clock.now())
    except DraftConflict as exc:
        db.session.rollback()
        return jsonify(message=conflict_message(exc), current_revision=exc.current_revision), 409
    except (DraftFileError, VersionError) as exc:
        db.session.rollback()
        return jsonify(message=f"未能上传：{exc}"), 400
    db.session.commit()
    state = _state(done.draft)
    state["problems"] = _problem_rows([_as_dict(p) for p in done.problems]) + state["problems"]
    return jsonify(state)


@bp.get("/designer/drafts/<int:draft_id>/compare")
@role_required(DESIGNER)
def compare_view(draft_id: int):
    found = _draft(draft_id)
    try:
        result = compare(db.session, services().registry, found.id)
    except VersionError as exc:
        db.session.rollback()
        return jsonify(message=f"无法对比：{exc}", empty=True, added=[], removed=[], changed=[], files_changed=[])
    db.session.commit()  # compare may keep the text of a version published from processes/

    def rows(changes):
        return [{"element_id": c.element_id, "file": c.file, "type": c.type, "name": c.name,
                 "changes": {key: list(pair) for key, pair in c.changes.items()}} for c in changes]

    return jsonify(empty=result.empty, added=rows(result.added), removed=rows(result.removed),
                   changed=rows(result.changed), files_changed=result.files_changed)


@bp.post("/designer/drafts/<int:draft_id>/publish")
@role_required(DESIGNER)
def publish(draft_id: int):
    found = _draft(draft_id)
    body = request.get_json(silent=True)
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        return jsonify(message="请填写发布说明"), 400
    try:
        done = publish_draft(db.session, services().registry, found.id, current_actor(), services().clock.now(),
                             reason, current_app.config.get("DESIGNER_FOUR_EYES") or {})
    except VersionError as exc:
        problems = list(found.problems or [])
        db.session.rollback()
        return jsonify(message=f"未能发布：{exc}", problems=_problem_rows(problems)), 409
    db.session.commit()
    if done.state == "awaiting_approval":
        return jsonify(state=done.state, message="已提交，待另一位流程设计员审核后发布")
    version = db.session.get(ProcessVersion, done.published_version_id)
    return jsonify(state=done.state, version_id=version.id, version_number=version.number,
                   message=f"已发布为 v{version.number}，新登记的案件按新版本办理，办理中的案件仍按原版本办理")


# -- helpers -------------------------------------------------------------------------------------

def save_files(found: ProcessDraft, files: dict[str, str], expected_revision: int, note: str):
    """Save the draft and commit: (the saved draft, None), or (None, the JSON refusal) with nothing
    stored — a conflict names who saved in between, the user's edit stays in their page."""
    try:
        saved = save_draft(db.session, services().registry, found.id, files, expected_revision, current_actor(),
                           services().clock.now(), note)
    except DraftConflict as exc:
        db.session.rollback()
        return None, (jsonify(message=conflict_message(exc), current_revision=exc.current_revision,
                              saved_by=exc.saved_by), 409)
    except DraftFileError as exc:
        db.session.rollback()
        return None, (jsonify(message=f"未能保存：{exc}"), 400)
    except VersionError as exc:
        db.session.rollback()
        return None, (jsonify(message=f"未能保存：{exc}"), 409)
    db.session.commit()
    return saved, None


def designer_levels(actor: Actor) -> list[str]:
    """The jurisdictions the actor designs for ("" = the base), in the order granted."""
    codes = {grant.jurisdiction_code for grant in actor.grants if grant.role == DESIGNER}
    return sorted(codes, key=lambda code: (len(code), code))


def vendor_ready() -> bool:
    root = Path(current_app.config.get("DESIGNER_NODE_MODULES") or PACKAGE_DIR / "node_modules")
    return (root / "bpmn-js" / "dist" / "bpmn-modeler.production.min.js").is_file()


def conflict_message(exc: DraftConflict) -> str:
    draft = db.session.get(ProcessDraft, exc.draft_id)
    at = draft.saved_at.astimezone(SHANGHAI) if draft is not None else None
    when = f"于 {at:%H:%M} " if at else ""
    return (f"未保存：{exc.saved_by} {when}在您打开之后保存了第 {exc.current_revision} 版。"
            "您的修改仍在画布上，请先「下载 .bpmn」留存，再刷新页面查看对方的修改。")


def _designs_for(actor: Actor, category) -> bool:
    """A category of processes/ is everyone's; a designed one shows to designers of its level, above or below."""
    if not category.designed:
        return True
    return any(grant.role == DESIGNER and (grant.covers(category.jurisdiction_code)
                                           or code_covers(category.jurisdiction_code, grant.jurisdiction_code))
               for grant in actor.grants)


def _may_edit(actor: Actor, draft: ProcessDraft) -> bool:
    return any(grant.role == DESIGNER and grant.covers(draft.jurisdiction_code) for grant in actor.grants)


def _draft(draft_id: int) -> ProcessDraft:
    """The draft if the actor designs for its level; 404 otherwise (another county's draft does not exist)."""
    found = db.session.get(ProcessDraft, draft_id)
    if found is None or not _may_edit(current_actor(), found):
        abort(404)
    return found


def _as_dict(problem: Problem) -> dict:
    return {"file": problem.file, "line": problem.line, "element_id": problem.element_id,
            "message": problem.message, "severity": problem.severity}


def _problem_rows(problems: list[dict]) -> list[dict]:
    """Stored problems plus `text`, the line `fengqiao check` prints for each."""
    return [{**p, "text": str(Problem(p["file"], p.get("line"), p.get("element_id"), p["message"],
                                      p.get("severity", "error")))} for p in problems]


def _state(draft: ProcessDraft) -> dict:
    return {"id": draft.id, "revision": draft.revision, "state": draft.state, "files": dict(draft.files),
            "problems": _problem_rows(list(draft.problems or [])), "saved_by": draft.saved_by,
            "category_code": draft.category_code, "jurisdiction_code": draft.jurisdiction_code}

