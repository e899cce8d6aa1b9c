"""导出卷宗: GET /cases/<id>/dossier — the case's whole dossier as one ZIP (engine/dossier.py).

Scoped exactly like the case page: a case outside the user's jurisdiction does not exist (404).
ID and phone numbers appear in full only for the handling center's own staff.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response

from engine.dossier import build_dossier, sees_personal_data
from engine.queries import get_case

from .attachments import attachment_store
from .extensions import db
from .services import services
from .session_user import current_actor, login_required

bp = Blueprint("dossier", __name__)


@bp.route("/cases/<int:case_id>/dossier")
@login_required
def export(case_id: int):
    actor = current_actor()
    case = get_case(db.session, actor, case_id)  # NotFound outside the jurisdiction
    category = services().registry.categories.get(case.category_code)
    dossier = build_dossier(db.session, case, attachment_store(), services().clock.now(),
                            category_name=category.name if category else case.category_code,
                            show_personal=sees_personal_data(actor, case))
    response = Response(dossier.data, mimetype="application/zip")
    # RFC 6266: an ASCII fallback plus the UTF-8 name, so every browser saves 卷宗_<code>.zip.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"dossier_{case.code}.zip\"; filename*=UTF-8''{quote(dossier.filename)}")
    response.headers["Cache-Control"] = "private, no-store"  # personal data: no shared cache keeps it
    return response
