"""表单设计: the JSON Schema forms of a draft's category, edited field by field with a live preview.

A form edited here is saved into the draft as "forms/<name>.json" (engine/draft_forms.py) and
belongs to the version that draft publishes; forms/ itself is never written. The preview is drawn
by web/form_render.py and the `render_fields` macro, the same code task pages use, so what the
designer sees is what a 调解员 will get. Access is that of the draft (web/designer.py `_draft`).
"""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from engine.designed_categories import new_category_of
from engine.draft_files import DraftFileError
from engine.draft_forms import (FORM_NAME, check_schema_text, draft_forms, form_file, minimal_schema, schema_text,
                                used_forms)
from engine.drafts import DESIGNER, MAX_FILE_BYTES, DraftConflict, save_draft
from engine.errors import VersionError
from engine.models import ProcessDraft
from engine.registry import LIBRARY_DIR
from engine.variant_lookup import ancestors
from engine.versions import label

from . import form_render
from .designer import STATE_NAMES, _draft, _problem_rows, conflict_message, save_files
from .extensions import db
from .services import services
from .session_user import current_actor, role_required

bp = Blueprint("designer_forms", __name__)


@bp.get("/designer/drafts/<int:draft_id>/forms")
@role_required(DESIGNER)
def index(draft_id: int):
    """The forms the draft's category uses, and the draft's own (已修改) ones."""
    found = _draft(draft_id)
    intake = _intake_form(found)
    used = _used_forms(found, intake)
    own = draft_forms(found.files)
    rows = []
    for name in sorted(set(used) | set(own), key=lambda n: (n != intake, n)):
        text, origin = _form_source(found, name)
        rows.append({"name": name, "title": _title(text, name), "origin": origin, "modified": name in own,
                     "missing": text is None, "tasks": used.get(name, []), "intake": name == intake,
                     "unused": name not in used})
    return render_template("designer_forms.html", draft=found, rows=rows, state_names=STATE_NAMES,
                           category_name=_category_name(found),
                           place=label(db.session, services().registry, found.jurisdiction_code))


@bp.post("/designer/drafts/<int:draft_id>/forms")
@role_required(DESIGNER)
def create(draft_id: int):
    """Add a new form, starting from a minimal schema, to the draft and open it in the editor."""
    found = _draft(draft_id)
    name = (request.form.get("name") or "").strip()
    title = (request.form.get("title") or "").strip() or name
    back = redirect(url_for("designer_forms.index", draft_id=found.id)), 303
    if not FORM_NAME.fullmatch(name):
        flash(f"未能新建表单：表单名称「{name}」无效，请用小写字母开头，只含小写字母、数字和下划线，如 visit_record", "error")
        return back
    if _form_source(found, name)[0] is not None:
        flash(f"表单 {name} 已存在，已为您打开：修改后保存即成为本草稿自己的版本", "info")
        return redirect(url_for("designer_forms.edit", draft_id=found.id, name=name)), 303
    try:
        expected = int(request.form.get("expected_revision", ""))
    except ValueError:
        expected = found.revision
    files = {**found.files, form_file(name): schema_text(minimal_schema(title[:100]))}
    try:
        save_draft(db.session, services().registry, found.id, files, expected, current_actor(),
                   services().clock.now(), f"新建表单 {name}")
    except DraftConflict as exc:
        db.session.rollback()
        flash(conflict_message(exc), "error")
        return back
    except (DraftFileError, VersionError) as exc:
        db.session.rollback()
        flash(f"未能新建表单：{exc}", "error")
        return back
    db.session.commit()
    flash(f"已新建表单 {name}：添加字段后保存；在流程图中把它设为人工环节的表单", "success")
    return redirect(url_for("designer_forms.edit", draft_id=found.id, name=name)), 303


@bp.get("/designer/drafts/<int:draft_id>/forms/<name>")
@role_required(DESIGNER)
def edit(draft_id: int, name: str):
    """The field editor, the raw JSON and the live preview of one form."""
    found = _draft(draft_id)
    if not FORM_NAME.fullmatch(name):
        abort(404)
    text, origin = _form_source(found, name)
    intake = _intake_form(found)
    used = _used_forms(found, intake)
    if text is None:
        if name not in used:
            abort(404)
        # Named by a task but defined nowhere: start it here, it exists once saved.
        text, origin = schema_text(minimal_schema(name)), "新表单（尚未保存）"
    file = form_file(name)
    problems = _problem_rows([p for p in (found.problems or []) if p.get("file") == file])
    return render_template("designer_form.html", draft=found, name=name, file=file, text=text, origin=origin,
                           modified=file in found.files, tasks=used.get(name, []),
                           intake=name == intake, problems=problems, state_names=STATE_NAMES,
                           category_name=_category_name(found), editable=found.state == "draft",
                           place=label(db.session, services().registry, found.jurisdiction_code),
                           preview=_preview(text))


@bp.post("/designer/drafts/<int:draft_id>/forms/preview")
@role_required(DESIGNER)
def preview(draft_id: int):
    """The form as a task page draws it, or what keeps the schema from being a form (what and where)."""
    _draft(draft_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return jsonify(message="请求内容应为 {text: 表单的 JSON 文本}"), 400
    result = _preview(body["text"])
    return jsonify(result), (200 if result["ok"] else 422)


@bp.post("/designer/drafts/<int:draft_id>/forms/<name>/save")
@role_required(DESIGNER)
def save(draft_id: int, name: str):
    """Save the draft with this form's text, on the revision the page was loaded on."""
    found = _draft(draft_id)
    if not FORM_NAME.fullmatch(name):
        abort(404)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) \
            or not isinstance(body.get("expected_revision"), int):
        return jsonify(message="请求内容应为 {text: 表单的 JSON 文本, expected_revision: 修订号}"), 400
    if len(body["text"].encode("utf-8")) > MAX_FILE_BYTES:
        return jsonify(message=f"未能保存：表单超过 {MAX_FILE_BYTES} 字节"), 400
    file = form_file(name)
    files = {**found.files, file: body["text"]}
    saved, refusal = save_files(found, files, body["expected_revision"], f"修改表单 {name}")
    return refusal or jsonify(_saved(saved, file))


@bp.post("/designer/drafts/<int:draft_id>/forms/<name>/revert")
@role_required(DESIGNER)
def revert(draft_id: int, name: str):
    """Drop the draft's own copy: the category uses the form as forms/ (or the county's variant) has it."""
    found = _draft(draft_id)
    if not FORM_NAME.fullmatch(name):
        abort(404)
    file = form_file(name)
    if file not in found.files:
        flash(f"本草稿没有修改表单 {name}，无需恢复", "info")
        return redirect(url_for("designer_forms.index", draft_id=found.id)), 303
    try:
        expected = int(request.form.get("expected_revision", ""))
    except ValueError:
        expected = found.revision
    files = {key: text for key, text in found.files.items() if key != file}
    try:
        save_draft(db.session, services().registry, found.id, files, expected, current_actor(),
                   services().clock.now(), f"表单 {name} 恢复为表单库版本")
    except DraftConflict as exc:
        db.session.rollback()
        flash(conflict_message(exc), "error")
        return redirect(url_for("designer_forms.edit", draft_id=found.id, name=name)), 303
    except VersionError as exc:
        db.session.rollback()
        flash(f"未能恢复：{exc}", "error")
        return redirect(url_for("designer_forms.edit", draft_id=found.id, name=name)), 303
    db.session.commit()
    flash(f"表单 {name} 已恢复为表单库中的版本", "success")
    return redirect(url_for("designer_forms.index", draft_id=found.id)), 303


# -- helpers -------------------------------------------------------------------------------------

def _preview(text: str) -> dict:
    """{"ok": True, "html": …} drawn by the task pages' renderer, or {"ok": False, "message", "line", "pointer"}."""
    schema, problem = check_schema_text("表单", text)
    if problem is not None:
        pointer = None if problem.element_id in (None, "(root)") else "/" + problem.element_id
        where = "，".join(part for part in (f"第 {problem.line} 行" if problem.line else "", pointer or "") if part)
        return {"ok": False, "message": f"表单定义有误（{where or '整个文件'}）：{problem.message}",
                "line": problem.line, "pointer": pointer}
    try:
        fields = form_render.field_views(schema)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return {"ok": False, "message": f"无法按此表单生成输入框：{type(exc).__name__}: {exc}", "line": None,
                "pointer": None}
    shown = {f.name for f in fields}
    skipped = [name for name in schema.get("properties", {}) if name not in shown]
    html = render_template("_designer_form_preview.html", title=schema.get("title") or "", fields=fields,
                           skipped=skipped)
    return {"ok": True, "html": html}


def _saved(draft: ProcessDraft, file: str) -> dict:
    rows = _problem_rows(list(draft.problems or []))
    mine = [row for row in rows if row["file"] == file]
    errors = sum(1 for row in rows if row.get("severity", "error") == "error")
    if any(row.get("severity", "error") == "error" for row in mine):
        message = f"已保存为第 {draft.revision} 版，此表单有问题需要处理"
    elif errors:
        message = f"已保存为第 {draft.revision} 版；草稿的其他文件还有 {errors} 个问题"
    else:
        message = f"已保存为第 {draft.revision} 版，未发现问题"
    return {"revision": draft.revision, "problems": mine, "errors": errors, "message": message}


def _form_source(draft: ProcessDraft, name: str) -> tuple[str | None, str]:
    """(text, where it comes from) of form `name` as the draft's category would use it now."""
    own = draft.files.get(form_file(name))
    if own is not None:
        return own, "本草稿（已修改）"
    registry = services().registry
    for code in ancestors(db.session, draft.jurisdiction_code):
        variant = registry.variants.get(code) if code else None
        if variant is not None and name in variant.forms:
            return _read(variant.folder / "forms" / f"{name}.json", variant.forms[name]), \
                f"{label(db.session, registry, code)}的定制表单"
    if name in registry.forms:
        return _read(registry.forms.forms_dir / f"{name}.json", registry.forms.get(name).schema), "表单库"
    return None, ""


def _read(path: Path, schema: dict) -> str:
    # The file as written keeps its author's layout; the loaded schema stands in if it moved away.
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return schema_text(schema)


def _title(text: str | None, name: str) -> str:
    try:
        schema = json.loads(text) if text is not None else {}
    except json.JSONDecodeError:
        return name
    title = schema.get("title") if isinstance(schema, dict) else None
    return title if isinstance(title, str) and title else name


def _used_forms(draft: ProcessDraft, intake: str | None = None) -> dict[str, list[tuple[str, str]]]:
    return used_forms(draft.files, intake or _intake_form(draft), services().registry.processes_dir / LIBRARY_DIR)


def _intake_form(draft: ProcessDraft) -> str:
    """The category's registration form (category.toml `intake_form`) at the draft's level."""
    designed = new_category_of(db.session, draft.category_code)
    if designed is not None:
        return designed.intake_form
    registry = services().registry
    try:
        chain = ancestors(db.session, draft.jurisdiction_code)
        return registry.variants.resolve(draft.category_code, chain).intake_form
    except Exception:  # noqa: BLE001 — processes/ broken for the level right now: the base's setting
        category = registry.categories.get(draft.category_code)
        return category.intake_form if category is not None else "intake"


def _category_name(draft: ProcessDraft) -> str:
    category = services().registry.categories.get(draft.category_code)
    if category is not None:
        return category.name
    designed = new_category_of(db.session, draft.category_code)
    return designed.name if designed is not None else draft.category_code
