"""Organisation pages: importing a workbook (校验 first, then 确认导入) and downloading the template.

An upload is always checked as a dry run first. If every row is fine the file is kept for a short
while under a random token bound to the administrator's session, and 确认导入 imports that same
file (checked again, since the database may have changed meanwhile). Nothing is written while any
row has a problem.
"""
from __future__ import annotations

import secrets
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for

from engine.org_import import import_file
from engine.org_workbook import template_xlsx

from .extensions import db
from .org_access import admin_scope
from .session_user import role_required

bp = Blueprint("imports", __name__)

MAX_BYTES = 5 * 1024 * 1024
SUFFIXES = (".xlsx", ".zip", ".csv")
PENDING_KEY = "org_import"
KEEP_SECONDS = 3600


@bp.route("/import", methods=["GET", "POST"])
@role_required("admin")
def upload():
    if request.method == "GET":
        return render_template("org_import.html", report=None)
    upload = request.files.get("file")
    filename = (upload.filename or "") if upload else ""
    if not filename:
        return render_template("org_import.html", report=None, error="请选择要导入的文件"), 422
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        return render_template("org_import.html", report=None,
                               error="只能导入 .xlsx 工作簿、CSV 文件或装有 CSV 文件的 .zip"), 422
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return render_template("org_import.html", report=None, error="文件超过 5 MB，请分批导入"), 422
    report = import_file(db.session, data, filename, scope=admin_scope(), dry_run=True)
    token = _keep(data, suffix, filename) if report.ok else None
    return render_template("org_import.html", report=report, filename=filename, token=token), (200 if report.ok else 422)


@bp.route("/import/confirm", methods=["POST"])
@role_required("admin")
def confirm():
    pending = session.get(PENDING_KEY) or {}
    path = _pending_dir() / f"{pending.get('token', '')}{pending.get('suffix', '')}"
    if not pending or request.form.get("token") != pending.get("token") or not path.is_file():
        flash("待导入的文件已过期，请重新上传", "error")
        return redirect(url_for(".upload"))
    data = path.read_bytes()
    report = import_file(db.session, data, pending["filename"], scope=admin_scope())
    if report.committed:
        path.unlink(missing_ok=True)
        session.pop(PENDING_KEY, None)
        flash(f"已导入 {pending['filename']}：{report.summary()}", "success")
        return redirect(url_for(".upload"))
    return render_template("org_import.html", report=report, filename=pending["filename"], token=None), 422


@bp.route("/import/template.xlsx")
@role_required("admin")
def template():
    example = request.args.get("example") == "1"
    return Response(template_xlsx(example=example),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=organisation-template.xlsx"})


def _pending_dir() -> Path:
    return Path(current_app.config.get("ORG_IMPORT_DIR") or Path(current_app.instance_path) / "org_imports")


def _keep(data: bytes, suffix: str, filename: str) -> str:
    """Store a checked upload for 确认导入 (it may hold initial passwords: owner-only, kept an hour)."""
    folder = _pending_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        if old.is_file() and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    previous = session.get(PENDING_KEY)
    if previous and previous.get("token"):
        (folder / f"{previous.get('token', '')}{previous.get('suffix', '')}").unlink(missing_ok=True)
    token = secrets.token_hex(16)
    path = folder / f"{token}{suffix}"
    path.touch(mode=0o600)
    path.write_bytes(data)
    session[PENDING_KEY] = {"token": token, "suffix": suffix, "filename": filename}
    return token
