"""流程草稿审核: a second designer approves or returns a submitted draft (四眼原则), a draft is given
up, and any stored version is restored as a new draft. A thin layer over engine/drafts.py and
engine/draft_review.py.

As on the designer pages, a draft outside the levels one designs for answers 404. Everything here
changes state through HTML forms posted with the page's CSRF token and answers with a redirect.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine.draft_review import awaiting_review, may_approve, may_discard, may_return
from engine.drafts import (DESIGNER, approve_draft, compare, discard_draft, may_design, restore_as_draft,
                           return_draft)
from engine.errors import EngineError, NoVersion, VersionError
from engine.models import ProcessDraft, ProcessVersion
from engine.variant_lookup import ancestors
from engine.versions import in_force, label

from .extensions import db
from .services import services
from .session_user import current_actor, current_user, role_required

bp = Blueprint("designer_review", __name__)

STATE_NAMES = {"draft": "编辑中", "awaiting_approval": "待审核", "published": "已发布", "discarded": "已放弃"}
# How the comparison names BPMN element types and the aspects of an element that changed.
TYPE_NAMES = {"userTask": "人工环节", "serviceTask": "服务环节", "scriptTask": "脚本环节",
              "businessRuleTask": "决策环节", "callActivity": "调用子流程", "subProcess": "子流程",
              "sequenceFlow": "连线", "exclusiveGateway": "排他网关", "parallelGateway": "并行网关",
              "inclusiveGateway": "包容网关", "eventBasedGateway": "事件网关", "startEvent": "开始事件",
              "endEvent": "结束事件", "boundaryEvent": "边界事件", "intermediateCatchEvent": "中间捕获事件",
              "intermediateThrowEvent": "中间抛出事件", "lane": "泳道", "laneSet": "泳道集"}
ASPECT_NAMES = {"type": "类型", "name": "名称", "calledElement": "调用流程", "attachedToRef": "附着环节",
                "sourceRef": "起点", "targetRef": "终点", "default": "默认连线", "condition": "分支条件",
                "script": "脚本", "calledDecisionId": "决策表", "timer timeDate": "定时（时点）",
                "timer timeDuration": "定时（时长）", "timer timeCycle": "定时（周期）",
                "property form": "表单", "property role": "办理角色", "property deadline": "办理期限",
                "property warn_share": "预警比例", "property escalate_after": "超期上报",
                "property extension": "延期", "property max_extensions": "最多延期次数",
                "property documents": "生成文书"}


@bp.app_context_processor
def review_names():
    """Names the comparison macro (_comparison.html) shows, and the designer's review queue: the
    queue is a callable so that only pages that list it (designer_index.html) query it."""
    return {"element_type_names": TYPE_NAMES, "aspect_names": ASPECT_NAMES, "review_queue": _review_queue}


@bp.get("/designer/drafts/<int:draft_id>/review")
@role_required(DESIGNER)
def review(draft_id: int):
    draft = _draft(draft_id)
    actor = current_actor()
    registry = services().registry
    comparison, compare_problem = None, None
    if draft.state in ("draft", "awaiting_approval"):
        try:
            comparison = compare(db.session, registry, draft.id)
        except VersionError as exc:
            compare_problem = str(exc)
        db.session.commit()  # compare may keep the text of a version published from processes/
    try:
        current = in_force(db.session, draft.category_code, draft.jurisdiction_code)
    except NoVersion:
        current = None
    base = db.session.get(ProcessVersion, draft.base_version_id) if draft.base_version_id else None
    published = db.session.get(ProcessVersion, draft.published_version_id) if draft.published_version_id else None
    category = registry.categories.get(draft.category_code)
    return render_template("designer_review.html", draft=draft, state_names=STATE_NAMES,
                           category_name=category.name if category else draft.category_code,
                           place=label(db.session, registry, draft.jurisdiction_code),
                           comparison=comparison, compare_problem=compare_problem, current=current, base=base,
                           published=published, may_approve=may_approve(actor, draft),
                           may_return=may_return(actor, draft), may_discard=may_discard(actor, draft),
                           is_submitter=actor.username == draft.submitted_by)


@bp.post("/designer/drafts/<int:draft_id>/approve")
@role_required(DESIGNER)
def approve(draft_id: int):
    draft = _draft(draft_id)
    actor = current_actor()
    back = url_for("designer_review.review", draft_id=draft.id)
    if draft.state == "awaiting_approval" and draft.submitted_by == actor.username:
        flash("未能批准：此草稿由您提交，须由另一位流程设计员审核后发布", "error")
        return redirect(back), 303
    try:
        done = approve_draft(db.session, services().registry, draft.id, actor, services().clock.now())
        db.session.commit()
    except EngineError as exc:
        db.session.rollback()
        flash(f"未能批准：{exc}", "error")
        return redirect(back), 303
    version = db.session.get(ProcessVersion, done.published_version_id)
    flash(f"已批准，发布为 v{version.number}：新登记的案件按新版本办理，办理中的案件仍按原版本办理", "success")
    return redirect(back), 303


@bp.post("/designer/drafts/<int:draft_id>/return")
@role_required(DESIGNER)
def send_back(draft_id: int):
    draft = _draft(draft_id)
    actor = current_actor()
    note = request.form.get("note", "").strip()
    withdrawing = draft.submitted_by == actor.username
    if not note and not withdrawing:
        flash("请填写退回意见，说明需要修改什么", "error")
        return redirect(url_for("designer_review.review", draft_id=draft.id)), 303
    try:
        return_draft(db.session, draft.id, actor, services().clock.now(), note)
        db.session.commit()
    except EngineError as exc:
        db.session.rollback()
        flash(f"未能退回：{exc}", "error")
        return redirect(url_for("designer_review.review", draft_id=draft.id)), 303
    if withdrawing:
        flash(f"已撤回提交，草稿 #{draft.id} 可继续编辑", "success")
        return redirect(url_for("designer.draft", draft_id=draft.id)), 303
    flash(f"已将草稿 #{draft.id} 退回 {draft.submitted_by} 修改", "success")
    return redirect(url_for("designer.index")), 303


@bp.post("/designer/drafts/<int:draft_id>/discard")
@role_required(DESIGNER)
def discard(draft_id: int):
    draft = _draft(draft_id)
    try:
        discard_draft(db.session, draft.id, current_actor())
        db.session.commit()
    except EngineError as exc:
        db.session.rollback()
        flash(f"未能放弃草稿：{exc}", "error")
        return redirect(url_for("designer_review.review", draft_id=draft.id)), 303
    flash(f"已放弃草稿 #{draft.id}；现行版本不受影响", "success")
    return redirect(url_for("designer.index")), 303


@bp.post("/versions/<int:version_id>/restore")
@role_required(DESIGNER)
def restore(version_id: int):
    actor = current_actor()
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        abort(404)
    if not may_design(actor, version.jurisdiction_code):
        # A version of a level above one's own is shown in the history (it is inherited) but is not
        # theirs to restore; anything else does not exist for them.
        on_chain = version.jurisdiction_code in ancestors(db.session, actor.jurisdiction_code)
        abort(403 if on_chain else 404)
    try:
        draft = restore_as_draft(db.session, services().registry, version.id, actor, services().clock.now())
        db.session.commit()
    except EngineError as exc:
        db.session.rollback()
        flash(f"未能恢复为草稿：{exc}", "error")
        return redirect(url_for("versions.category", category_code=version.category_code,
                                jurisdiction=request.form.get("jurisdiction") or None)), 303
    flash(f"已将 v{version.number} 恢复为新草稿 #{draft.id}；检查无误后提交发布才会生效", "success")
    return redirect(url_for("designer.draft", draft_id=draft.id)), 303


# -- helpers -------------------------------------------------------------------------------------

def _draft(draft_id: int) -> ProcessDraft:
    """The draft if the actor designs for its level; 404 otherwise (another county's draft does not exist)."""
    found = db.session.get(ProcessDraft, draft_id)
    if found is None or not may_design(current_actor(), found.jurisdiction_code):
        abort(404)
    return found


def _review_queue() -> list[ProcessDraft]:
    if current_user() is None:
        return []
    return awaiting_review(db.session, current_actor())
