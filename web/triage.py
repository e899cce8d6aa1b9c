"""一窗分诊 (the guide desk): before registering, pick the kind of dispute and see its 法治化路线图.

Where the `intake_triage` locality switch is on for the clerk's center (青山区), 登记纠纷 starts
here: the clerk and the citizen go through the route of the chosen category as the definition in
force at the clerk's center defines it (engine/legal_route_map.py), then 「开始登记」 opens the
normal registration with that category chosen. Elsewhere registration is unchanged; the page
still works for any clerk who opens it.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from engine.legal_route_map import route_map
from engine.locality_settings import locality_setting
from engine.variant_lookup import ancestors

from .extensions import db
from .services import services
from .session_user import current_actor, role_required

bp = Blueprint("triage", __name__)


def triage_on(jurisdiction_code: str) -> bool:
    """Whether registration at this center starts at the guide desk (nearest variant.toml wins)."""
    chain = ancestors(db.session, jurisdiction_code)
    return bool(locality_setting(services().registry.variants, chain, "intake_triage", False))


@bp.route("/triage")
@role_required("clerk")
def index():
    actor = current_actor()
    chain = ancestors(db.session, actor.jurisdiction_code)
    categories = {code: category for code, category in services().registry.categories.items()
                  if category.offered_at(chain)}
    code = request.args.get("category") or None
    route = None
    if code is not None:
        if code not in categories:
            abort(404)
        category = categories[code]
        bundle = services().runtime.definition_in_force(db.session, code, actor.jurisdiction_code)
        route = route_map(code, category.name, bundle)
    ordered = dict(sorted(categories.items(), key=lambda item: item[1].name))
    return render_template("triage.html", categories=ordered, route=route, category_code=code)
