"""新建纠纷类别: a designer creates a category that processes/ does not have, starting from an
existing category's flow, and lands on its first draft (engine/category_creation.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for

from engine.category_creation import create_category
from engine.designed_categories import CategoryNameError
from engine.drafts import DESIGNER
from engine.errors import EngineError

from .designer import designer_levels
from .extensions import db
from .services import services
from .session_user import current_actor, role_required

bp = Blueprint("designer_categories", __name__)


@bp.post("/designer/categories")
@role_required(DESIGNER)
def create():
    actor = current_actor()
    jurisdiction_code = request.form.get("jurisdiction", "")
    if jurisdiction_code not in designer_levels(actor):
        abort(403)
    try:
        draft = create_category(db.session, services().registry, request.form.get("code", ""),
                                request.form.get("name", ""), jurisdiction_code, request.form.get("template", ""),
                                actor, services().clock.now())
    except CategoryNameError as exc:
        db.session.rollback()
        flash(f"未能新建类别：{exc}", "error")
        return redirect(url_for("designer.index")), 303
    except EngineError as exc:
        db.session.rollback()
        flash(f"未能新建类别：{exc}", "error")
        return redirect(url_for("designer.index")), 303
    db.session.commit()
    flash("已新建类别并打开第一份草稿：修改流程后保存，发布后即可登记该类案件", "success")
    return redirect(url_for("designer.draft", draft_id=draft.id)), 303
