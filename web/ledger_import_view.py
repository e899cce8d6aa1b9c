"""台账导入: upload a case ledger, read the check (always a dry run first), confirm, follow the import.

The upload is checked at once and nothing is registered. If every row passes, the file is kept
server-side under a random name (LEDGER_IMPORT_DIR, default instance/imports) bound to the clerk's
session, so 确认导入 imports exactly the file that was checked without uploading it again. The
confirmed import runs in the background (web/ledger_runs.py) and the page polls its progress; the
kept file is deleted when the import ends. Only the importer, and the 中心主任 and 系统管理员 over
the importer's unit, may follow an import.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.ledger_import import check_ledger
from engine.ledger_jobs import STATE_NAMES, job_status, may_read, open_job, report_errors
from engine.ledger_sheet import read_ledger
from engine.ledger_template import EXAMPLE_PLACE, template_xlsx
from engine.models import LedgerImport

from . import ledger_runs
from .extensions import db
from .pending_uploads import PendingUploads
from .services import services
from .session_user import current_actor, login_required, role_required

bp = Blueprint("ledger_imports", __name__)

MAX_BYTES = 10 * 1024 * 1024
SUFFIXES = (".xlsx", ".csv")
# A ledger holds citizens' names and phones: kept owner-only, for an hour at most.
PENDING = PendingUploads("LEDGER_IMPORT_DIR", "imports", session_key="ledger_import")
RECENT = 10


@bp.route("/cases/import", methods=["GET", "POST"])
@role_required("clerk")
def upload():
    if request.method == "GET":
        return _render_upload()
    upload = request.files.get("file")
    filename = (upload.filename or "") if upload else ""
    if not filename:
        return _render_upload(error="请选择要导入的文件"), 422
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        return _render_upload(error="只能导入 .xlsx 工作簿或 CSV 文件（旧版 .xls 请在 Excel 中另存为 .xlsx）"), 422
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return _render_upload(error=f"文件超过 {MAX_BYTES // (1024 * 1024)} MB，请分批导入"), 422
    check = check_ledger(db.session, services().runtime, read_ledger(data, filename), current_actor())
    token = PENDING.keep(data, suffix, filename) if check.ok else None
    return _render_upload(check=check, filename=filename, token=token), (200 if check.ok else 422)


@bp.route("/cases/import/confirm", methods=["POST"])
@role_required("clerk")
def confirm():
    pending = PENDING.confirmed(request.form.get("token"))
    if pending is None:
        return PENDING.expired()
    filename, path = pending
    PENDING.forget()  # one confirmation per check; the run deletes the file when it ends
    actor = current_actor()
    job = open_job(db.session, filename, actor, services().clock.now())
    ledger_runs.start(job.id, path, filename, actor)
    return redirect(url_for(".show", import_id=job.id))


@bp.route("/cases/import/<int:import_id>")
@login_required
def show(import_id: int):
    job = _readable(import_id)
    status = job_status(job, ledger_runs.board())
    return render_template("ledger_import_job.html", job=job, status=status, errors=report_errors(job),
                           cases=(job.report or {}).get("cases", []), category_names=_category_names())


@bp.route("/cases/import/<int:import_id>/progress")
@login_required
def progress(import_id: int):
    return jsonify(job_status(_readable(import_id), ledger_runs.board()))


@bp.route("/cases/import/template.xlsx")
@role_required("clerk")
def template():
    place = current_actor().jurisdiction_code or EXAMPLE_PLACE
    return Response(template_xlsx(services().registry, place),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=ledger-template.xlsx"})


def _render_upload(check=None, filename="", token=None, error=""):
    actor = current_actor()
    recent = db.session.scalars(select(LedgerImport).where(LedgerImport.created_by == actor.username)
                                .order_by(LedgerImport.id.desc()).limit(RECENT)).all()
    return render_template("ledger_import.html", check=check, filename=filename, token=token, error=error,
                           recent=recent, state_names=STATE_NAMES, max_mb=MAX_BYTES // (1024 * 1024),
                           summary=check.summary(_category_names()) if check is not None else "")


def _readable(import_id: int) -> LedgerImport:
    job = db.session.get(LedgerImport, import_id)
    if job is None or not may_read(current_actor(), job):
        abort(404)
    return job


def _category_names() -> dict[str, str]:
    return {code: category.name for code, category in services().registry.categories.items()}

