"""The versioned JSON API for intake channels (/api/v1): token authentication, problem details.

Channels authenticate with `Authorization: Bearer <token>` (engine/channels.py); the published
OpenAPI document (openapi.json) and the problem-type pages need none. Sessions and CSRF do not
apply: nothing here reads the staff login cookie.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from engine.channels import authenticate, hash_token

from ..extensions import csrf, db, limiter
from ..services import services
from .openapi import openapi_document
from .problems import PROBLEM_TYPES, problem

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
PUBLIC_ENDPOINTS = {"api_v1.openapi", "api_v1.problem_type"}
DEFAULT_RATE_LIMIT = "600 per minute"


def _rate_key() -> str:
    # Per token (a hash of it, so the limiter's storage never holds a credential), else per address.
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hash_token(header)
    return "api-ip:" + (request.remote_addr or "")


limiter.limit(lambda: current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT), key_func=_rate_key)(bp)


@bp.before_request
def authenticate_channel():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = authenticate(db.session, token.strip(), services().clock.now()) if scheme.lower() == "bearer" else None
    if principal is None:
        return problem("unauthorized", headers={"WWW-Authenticate": 'Bearer realm="fengqiao"'})
    g.channel = principal
    return None


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/problems/<name>")
def problem_type(name: str):
    if name not in PROBLEM_TYPES:
        return problem("not-found")
    status, title, description = PROBLEM_TYPES[name]
    return jsonify({"type": f"/api/v1/problems/{name}", "status": status, "title": title, "description": description})


from . import views  # noqa: E402,F401  (routes register on bp)
