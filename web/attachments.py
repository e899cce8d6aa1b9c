"""附件: a case's photos on the case page, served to those who may read the case, and added by them.

Scoped exactly like the case page: a case outside the user's jurisdiction, or an attachment of
another case, does not exist (404). Files are checked by their bytes (engine/attachments.py).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from engine.attachments import (
    DEFAULT_MAX_SIZE, MAX_PER_REPORT, AttachmentStore, StoredFileError, is_browser_image,
)
from engine.models import Attachment, Case
from engine.queries import get_case

from .case_view import display_names
from .errors import _api_problem, error_page
from .extensions import db
from .services import services
from .session_user import current_actor, login_required

bp = Blueprint("attachments", __name__)

PHOTO_FIELD = "photos"
MISSING_FILE = "附件文件缺失或已被改动，无法提供。请联系系统管理员从备份中恢复。"


def attachment_store() -> AttachmentStore:
    """The store configured for this app (ATTACHMENTS_DIR, ATTACHMENT_MAX_BYTES)."""
    config = current_app.config
    root = config.get("ATTACHMENTS_DIR") or Path(current_app.instance_path) / "attachments"
    return AttachmentStore(Path(root), max_size=config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_SIZE),
                           max_per_report=config.get("ATTACHMENTS_PER_REPORT", MAX_PER_REPORT))


def uploaded_files(field: str = PHOTO_FIELD) -> list[tuple[str, bytes]]:
    """The files sent in `field` as (name as sent, bytes); a file input left empty sends one
    nameless, empty part, which is not a file."""
    return [(upload.filename, upload.read()) for upload in request.files.getlist(field) if upload.filename]


@dataclass(frozen=True)
class AttachmentRow:
    attachment: Attachment
    uploader_name: str
    is_image: bool  # the browser can show it: open it inline rather than download it

    @property
    def size_text(self) -> str:
        size = self.attachment.size
        return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def attachment_rows(case: Case) -> list[AttachmentRow]:
    """The case's attachments, oldest first, with who uploaded them."""
    rows = list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                   .order_by(Attachment.uploaded_at, Attachment.id)))
    names = display_names(row.uploaded_by for row in rows)
    return [AttachmentRow(row, names.get(row.uploaded_by, row.uploaded_by), is_browser_image(row.content_type))
            for row in rows]


@bp.route("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download(case_id: int, attachment_id: int):
    """The file; `?thumb=1` a small JPEG of it, `?download=1` saved rather than shown."""
    case = get_case(db.session, current_actor(), case_id)  # NotFound outside the jurisdiction
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        return error_page(404)
    store = attachment_store()
    try:
        if request.args.get("thumb"):
            response = send_file(io.BytesIO(store.thumbnail(attachment)), mimetype="image/jpeg")
            return _guarded(response)
        data = store.open(attachment)
    except StoredFileError as exc:
        current_app.logger.error("attachment unreadable: %s", exc)
        return error_page(500, MISSING_FILE)
    inline = is_browser_image(attachment.content_type) and not request.args.get("download")
    response = send_file(io.BytesIO(data), mimetype=attachment.content_type, as_attachment=not inline,
                         download_name=attachment.filename)
    return _guarded(response)


@bp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@login_required
def upload(case_id: int):
    """Staff who may read the case add photos to it from the case page."""
    actor = current_actor()
    case = get_case(db.session, actor, case_id)
    back = redirect(url_for("cases.detail", case_id=case.id, _anchor="attachments"))
    store = attachment_store()
    files = uploaded_files()
    if not files:
        flash("请先选择要上传的照片", "error")
        return back
    checked, problems = store.check_all(files)
    if problems:
        for problem in problems:
            flash(f"未上传：{problem}", "error")
        return back
    now = services().clock.now()
    try:
        with store.batch(db.session) as batch:
            for item in checked:
                batch.add(case, item, actor.username, now)
            batch.log(case, actor.username, now)
            db.session.commit()
    except OSError as exc:
        current_app.logger.error("storing attachments of case %s failed: %s", case.id, exc)
        flash("照片保存失败，本次上传未保存，请稍后重试或联系系统管理员。", "error")
        return back
    flash(f"已上传 {len(checked)} 张照片", "success")
    return back


def _guarded(response: Response) -> Response:
    # The type is ours (decided from the bytes): browsers must not guess another; the file may carry
    # personal data (faces, EXIF position), so no shared cache keeps it; and, opened on its own, it
    # runs nothing.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


def register(app) -> None:
    """The blueprint and the answer to an upload larger than MAX_CONTENT_LENGTH (413)."""
    app.register_blueprint(bp)

    @app.errorhandler(413)
    def too_large(_exc):
        api = _api_problem(413)  # the API answers problem JSON, as for every other error
        if api is not None:
            return api
        limit = (app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
        message = (f"上传的内容超过 {limit} MB 的上限，本次提交未保存。"
                   "请减少照片数量或选择较小的照片后，返回重新填写提交。")
        return render_template("error.html", status=413, title="上传内容过大", message=message), 413
