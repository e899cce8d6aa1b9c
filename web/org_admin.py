"""Organisation administration (组织机构) under /admin/org: 辖区, 部门, 用户, 导入.

Each area is its own blueprint nested here, so the app registers one blueprint and every page
shares the /admin/org prefix and the "org_admin" navigation section. Every page needs the
系统管理员 role and shows only the administrator's own subtree (see web.org_access).
"""
from __future__ import annotations

from flask import Blueprint, redirect, url_for

from . import org_import_view, org_places, org_users
from .session_user import role_required

bp = Blueprint("org_admin", __name__, url_prefix="/admin/org")
for child in (org_places.bp, org_users.bp, org_import_view.bp):
    bp.register_blueprint(child)


@bp.route("/")
@role_required("admin")
def index():
    return redirect(url_for("org_admin.places.tree"))
