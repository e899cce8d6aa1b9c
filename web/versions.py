"""流程版本: the versions in force for one's jurisdiction, their history, rollback, and moving a case."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine.drafts import may_design
from engine.errors import ConflictError, EngineError, MigrationRefused, NoVersion
from engine.migration import MIGRATING_ROLES, migrate_case, preview_migration
from engine.models import ProcessVersion
from engine.queries import get_case
from engine.version_changes import version_changes
from engine.versions import history, in_force, label, rollback, versions_in_force

from .extensions import db
from .services import services
from .session_user import current_actor, login_required

bp = Blueprint("versions", __name__)

VIEWING_ROLES = frozenset({"designer", "director", "admin"})
ROLLBACK_ROLES = frozenset({"designer", "admin"})
SOURCE_NAMES = {"files": "流程文件", "designer": "流程设计", "rollback": "回退"}
ATTRIBUTE_NAMES = {"extensions": "属性（期限、表单、角色等）", "outputs": "后续连线", "inputs": "前序连线",
                   "bpmn_name": "名称", "event_definition": "事件定义", "cond_task_specs": "分支条件",
                   "script": "脚本", "lane": "泳道", "documentation": "说明", "typename": "元素类型",
                   # states of the element's tasks in the case
                   "COMPLETED": "已办", "READY": "待办", "WAITING": "计时中", "STARTED": "进行中", "ERROR": "出错",
                   "CANCELLED": "已撤回", "FUTURE": "未到达", "LIKELY": "未到达", "MAYBE": "未到达", "running": "进行中"}


def any_role_required(roles: frozenset[str]):
    """Logged in and holding one of `roles`, else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_actor().roles & roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.get("/versions")
@any_role_required(VIEWING_ROLES)
def index():
    jurisdiction = _jurisdiction()
    rows = versions_in_force(db.session, services().registry, jurisdiction)
    return render_template("versions.html", rows=rows, jurisdiction=jurisdiction,
                           place=label(db.session, services().registry, jurisdiction), source_names=SOURCE_NAMES)


@bp.get("/versions/<category_code>")
@any_role_required(VIEWING_ROLES)
def category(category_code: str):
    jurisdiction = _jurisdiction()
    versions = history(db.session, category_code, jurisdiction, with_ancestors=True)
    if not versions and category_code not in services().registry.categories:
        abort(404)
    try:
        current = in_force(db.session, category_code, jurisdiction)
    except NoVersion:
        current = None
    newest = {}  # level -> its newest version not withdrawn: the only one that can be rolled back
    for version in versions:
        if version.withdrawn_at is None and version.jurisdiction_code not in newest:
            newest[version.jurisdiction_code] = version.id
    actor = current_actor()
    rollbackable = {version_id for level, version_id in newest.items() if _may_roll_back(actor, level)}
    registry = services().registry
    changes = version_changes(db.session, registry, versions)
    db.session.commit()  # version_changes may keep the text of a version published from processes/
    designable = {version.id for version in versions if may_design(actor, version.jurisdiction_code)}
    name = current.category_name if current else (registry.categories[category_code].name
                                                  if category_code in registry.categories else category_code)
    return render_template("version_history.html", category_code=category_code, category_name=name,
                           versions=versions, current=current, rollbackable=rollbackable, jurisdiction=jurisdiction,
                           changes=changes, designable=designable,
                           labels={v.jurisdiction_code: label(db.session, registry, v.jurisdiction_code)
                                   for v in versions},
                           place=label(db.session, registry, jurisdiction), source_names=SOURCE_NAMES)


@bp.post("/versions/<int:version_id>/rollback")
@any_role_required(ROLLBACK_ROLES)
def roll_back(version_id: int):
    actor = current_actor()
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        abort(404)
    if not _may_roll_back(actor, version.jurisdiction_code):
        abort(403)
    back = url_for("versions.category", category_code=version.category_code,
                   jurisdiction=request.form.get("jurisdiction") or None)
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash("请填写回退原因", "error")
        return redirect(back), 303
    try:
        rollback(db.session, version_id, actor.username, reason, now=services().clock.now())
        db.session.commit()
    except EngineError as exc:
        db.session.rollback()
        flash(f"未能回退：{exc}", "error")
        return redirect(back), 303
    flash(f"已回退 {version.category_name} v{version.number}，上一版本重新生效；办理中的案件仍按原版本办理", "success")
    return redirect(back), 303


@bp.route("/cases/<int:case_id>/migrate", methods=["GET", "POST"])
@any_role_required(MIGRATING_ROLES)
def migrate(case_id: int):
    actor = current_actor()
    case = get_case(db.session, actor, case_id)  # 404 outside the jurisdiction
    runtime = services().runtime
    if request.method == "POST":
        try:
            version_id = int(request.form.get("version_id", ""))
        except ValueError:
            abort(400)
        try:
            applied = migrate_case(db.session, runtime, case.id, version_id, actor)
        except (MigrationRefused, ConflictError) as exc:
            db.session.rollback()
            flash(f"未能迁移：{exc}", "error")
            return redirect(url_for("versions.migrate", case_id=case.id)), 303
        flash(f"已迁移到新版本 v{applied.target.number}（{applied.summary()}），计时器截止时间保持不变", "success")
        return redirect(url_for("cases.detail", case_id=case.id)), 303
    try:
        target = in_force(db.session, case.category_code, case.jurisdiction_code)
    except NoVersion:
        target = None
    preview = preview_migration(db.session, runtime, case.id, target.id) if target is not None else None
    registry = services().registry
    return render_template("case_migrate.html", case=case, preview=preview, attribute_names=ATTRIBUTE_NAMES,
                           target_label=label(db.session, registry, target.jurisdiction_code) if target else "",
                           current_label=label(db.session, registry, preview.current.jurisdiction_code)
                           if preview and preview.current else "")


def _jurisdiction() -> str:
    """The actor's own jurisdiction, or one below it named in ?jurisdiction= (404 outside)."""
    actor = current_actor()
    code = request.args.get("jurisdiction", "").strip() or actor.jurisdiction_code
    if code != actor.jurisdiction_code and not actor.covers(code):
        abort(404)
    return code


def _may_roll_back(actor, level: str) -> bool:
    """A designer or administrator rolls back versions of their own jurisdiction or below; the base,
    which every jurisdiction inherits, only an administrator."""
    if not actor.roles & ROLLBACK_ROLES:
        return False
    if level == "":
        return "admin" in actor.roles
    return actor.covers(level)
