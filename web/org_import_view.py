"""Organisation pages: importing a workbook (校验 first, then 确认导入) and downloading the template.

An upload is always checked as a dry run first. If every row is fine the file is kept for a short
while under a random token bound to the administrator's session, and 确认导入 imports that same
file (checked again, since the database may have changed meanwhile). Nothing is written while any
row has a problem.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from engine.org_import import import_file
from engine.org_workbook import template_xlsx

from .extensions import db
from .org_access import admin_scope
from .pending_uploads import PendingUploads
from .session_user import role_required

bp = Blueprint("imports", __name__)

MAX_BYTES = 5 * 1024 * 1024
SUFFIXES = (".xlsx", ".zip", ".csv")
# The workbook may hold initial passwords: kept owner-only, for an hour at most.
PENDING = PendingUploads("ORG_IMPORT_DIR", "org_imports", session_key="org_import")


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
    token = PENDING.keep(data, suffix, filename) if report.ok else None
    return render_template("org_import.html", report=report, filename=filename, token=token), (200 if report.ok else 422)


@bp.route("/import/confirm", methods=["POST"])
@role_required("admin")
def confirm():
    pending = PENDING.confirmed(request.form.get("token"))
    if pending is None:
        return PENDING.expired()
    filename, path = pending
    report = import_file(db.session, path.read_bytes(), filename, scope=admin_scope())
    if report.committed:
        path.unlink(missing_ok=True)
        PENDING.forget()
        flash(f"已导入 {filename}：{report.summary()}", "success")
        return redirect(url_for(".upload"))
    return render_template("org_import.html", report=report, filename=filename, token=None), 422


@bp.route("/import/template.xlsx")
@role_required("admin")
def template():
    example = request.args.get("example") == "1"
    return Response(template_xlsx(example=example),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=organisation-template.xlsx"})

