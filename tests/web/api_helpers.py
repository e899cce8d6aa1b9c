"""A channel set up in the web app's database, and checking answers against the published document."""
from __future__ import annotations

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from engine import channels, jurisdictions
from web.api.openapi import openapi_document
from web.extensions import db
from web.services import services

HOME, FOREIGN = "150207", "150203"
DOCUMENT_URI = "urn:fengqiao:openapi"


def make_channel(app, code="hotline-12345", kind="hotline_12345", place=HOME) -> str:
    """A channel with a token for `place`; returns the token. Builds the two counties once."""
    with app.app_context():
        if jurisdictions.get(db.session, "150200") is None:
            jurisdictions.save(db.session, "150200", "包头市", "city", None, "包头市综治中心")
            jurisdictions.save(db.session, HOME, "九原区", "county", "150200", "九原区综治中心")
            jurisdictions.save(db.session, FOREIGN, "昆都仑区", "county", "150200", "昆都仑区综治中心")
            db.session.flush()
        now = services().clock.now()
        channel = channels.find_channel(db.session, code) or channels.create_channel(
            db.session, code, f"{code} 渠道", kind, "admin", now)
        _token, plain = channels.issue_token(db.session, channel, place, "admin", now)
        db.session.commit()
        return plain


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def conforms(response, path: str, method: str) -> None:
    """Assert the answer is one the OpenAPI document declares for this operation, body included."""
    document = openapi_document()
    declared = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared, f"{method.upper()} {path} answered {status}, not declared: {sorted(declared)}"
    content = declared[status].get("content")
    if not content:
        return
    media = response.mimetype
    assert media in content, f"{status} answered {media}, declared {sorted(content)}"
    registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(document))
    schema = {"$ref": DOCUMENT_URI + "#" + _pointer_to(content[media]["schema"])} \
        if "$ref" in content[media]["schema"] else content[media]["schema"]
    if "$ref" not in content[media]["schema"] and "items" in schema and "$ref" in schema["items"]:
        schema = {"type": "array", "items": {"$ref": DOCUMENT_URI + schema["items"]["$ref"]}}
    errors = list(Draft202012Validator(schema, registry=registry).iter_errors(response.get_json()))
    assert not errors, [e.message for e in errors]


def _pointer_to(schema: dict) -> str:
    return schema["$ref"].lstrip("#")
