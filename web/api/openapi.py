"""The published OpenAPI 3.1 document of /api/v1, and the request schemas the API validates with.

One source: the schemas below are both what the document publishes and what the views validate
request bodies against (OpenAPI 3.1 schemas are JSON Schema 2020-12), so the two cannot drift.
"""
from __future__ import annotations

from engine.case_progress import STAGE_TEXT
from engine.channel_results import RESULT_TEXT
from engine.channels import CHANNEL_KINDS

from .problems import PROBLEM_TYPES

API_VERSION = "1.0.0"
PHONE = {"type": "string", "pattern": "^1[3-9][0-9]{9}$", "description": "中国大陆手机号"}
# A reference is a path segment when the channel pulls the status, so no slash and no control characters.
REFERENCE = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[^/\\u0000-\\u001f\\u007f]+$",
             "description": "The channel's own reference: 工单号 / 警情号 / 案号 / 信访件号."}
JURISDICTION = {"type": "string", "pattern": "^[0-9]{6,20}$", "description": "行政区划代码 of where the dispute arose."}

PARTY = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 50},
        "phone": PHONE,
        "id_number": {"type": "string", "pattern": "^[0-9]{17}[0-9Xx]$", "description": "居民身份证号码"},
    },
    "additionalProperties": False,
}
APPLICANT = {**PARTY, "required": ["name", "phone"]}

SUBMISSION = {
    "type": "object",
    "title": "A dispute sent by a channel",
    "required": ["reference", "jurisdiction", "title", "facts", "applicant"],
    "properties": {
        "reference": REFERENCE,
        "category": {"type": ["string", "null"], "pattern": "^[a-z][a-z_]{0,63}$",
                     "description": "Category code (GET /categories); omit or null to leave it to 研判."},
        "jurisdiction": JURISDICTION,
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "facts": {"type": "string", "minLength": 1, "maxLength": 2000},
        "occurred_on": {"type": "string", "format": "date"},
        "address": {"type": "string", "maxLength": 200},
        "people_count": {"type": "integer", "minimum": 1, "maximum": 100000},
        "amount": {"type": "number", "minimum": 0, "maximum": 1e12},
        "applicant": APPLICANT,
        "respondent": PARTY,
        "source_deadline": {"type": "string", "format": "date-time",
                            "description": "The source's own deadline (RFC 3339 with offset); the earlier of "
                                           "it and ours drives the warnings."},
        "extra": {"type": "object", "maxProperties": 30,
                  "additionalProperties": {"type": ["string", "number", "integer", "boolean"]},
                  "description": "Category-specific intake fields by their form names (e.g. court_case_number)."},
    },
    "additionalProperties": False,
}
CALLBACK = {
    "type": "object",
    "required": ["url"],
    "properties": {"url": {"type": ["string", "null"], "maxLength": 500,
                           "description": "http(s) URL receiving signed result notifications; null removes it."}},
    "additionalProperties": False,
}

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
PROGRESS = {
    "type": "object",
    "required": ["case_code", "stage", "stage_text", "center", "registered_at", "awaiting_feedback"],
    "properties": {
        "case_code": {"type": "string"},
        "stage": {"type": "string", "enum": list(STAGE_TEXT)},
        "stage_text": {"type": "string"},
        "center": {"type": "string"},
        "department": NULLABLE_STRING,
        "due_at": NULLABLE_TIME,
        "registered_at": {"type": "string", "format": "date-time"},
        "closed_at": NULLABLE_TIME,
        "result_text": NULLABLE_STRING,
        "awaiting_feedback": {"type": "boolean"},
    },
}
RESULT = {
    "type": "object",
    "required": ["sequence", "result", "result_text", "at", "delivered"],
    "properties": {
        "sequence": {"type": "integer"},
        "result": {"type": "string", "enum": list(RESULT_TEXT)},
        "result_text": {"type": "string"},
        "at": {"type": "string", "format": "date-time"},
        "delivered": {"type": "boolean", "description": "Acknowledged by the channel's callback receiver."},
    },
}
CASE = {
    "type": "object",
    "required": ["case_code", "reference", "category", "category_name", "jurisdiction", "source_deadline",
                 "progress", "results"],
    "properties": {
        "case_code": {"type": "string", "description": "一案一码: the center's case code."},
        "reference": {"type": "string"},
        "category": {"type": "string"},
        "category_name": {"type": "string"},
        "jurisdiction": {"type": "string"},
        "source_deadline": NULLABLE_TIME,
        "progress": {"$ref": "#/components/schemas/Progress"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
    },
}
CHANNEL = {
    "type": "object",
    "required": ["code", "name", "kind", "jurisdiction", "callback_url"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": list(CHANNEL_KINDS)},
        "jurisdiction": {"type": "string", "description": "This token's jurisdiction (and below)."},
        "callback_url": NULLABLE_STRING,
        "signing_secret": {"type": "string", "description": "Only in the answer to PUT /channel/callback."},
    },
}
CATEGORY = {
    "type": "object",
    "required": ["code", "name", "extra_fields"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "extra_fields": {"type": "object", "additionalProperties": {"type": "string"},
                         "description": "Category-specific intake fields (name → title) for `extra`."},
    },
}
PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "pointer", "detail"],
            "properties": {"field": {"type": "string"}, "pointer": {"type": "string"}, "detail": {"type": "string"}}}},
        "case_code": {"type": "string", "description": "For reference-reused: the case the reference created."},
    },
}


def _problem_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


COMMON_ERRORS = {
    "401": _problem_response("No valid channel token."),
    "429": _problem_response("Too many requests."),
}
BODY_ERRORS = {
    "400": _problem_response("The body is not JSON."),
    "413": _problem_response("The body is too large."),
    "415": _problem_response("The body is not application/json."),
    "422": _problem_response("The body does not satisfy the schema; `errors` names each field."),
}
REFERENCE_PARAMETER = {"name": "reference", "in": "path", "required": True, "schema": REFERENCE}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fengqiao 枫桥 intake API",
            "version": API_VERSION,
            "description": "Channels (12345, 110, 法院, 信访, 网格, other levels) send disputes in and follow them by "
                           "their own reference. Errors are RFC 9457 problem details. Result notifications to a "
                           "registered callback are signed: X-Fengqiao-Signature: sha256=HMAC(secret, "
                           "\"<X-Fengqiao-Timestamp>.<body>\").",
        },
        "servers": [{"url": "/"}],
        "security": [{"channelToken": []}],
        "paths": {
            "/api/v1/cases": {"post": {
                "operationId": "submitCase",
                "summary": "Send a dispute in (idempotent per reference)",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Submission"}}}},
                "responses": {
                    "201": {**_json("Case", "Created: a new case."),
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "200": _json("Case", "The reference was sent before: its case, unchanged."),
                    "403": _problem_response("The place is outside the token's jurisdiction."),
                    "409": _problem_response("The reference was sent before with different content."),
                    **BODY_ERRORS, **COMMON_ERRORS,
                },
            }},
            "/api/v1/cases/{reference}": {"get": {
                "operationId": "getCase",
                "summary": "A case this channel sent, by the channel's reference: progress and results",
                "parameters": [REFERENCE_PARAMETER],
                "responses": {"200": _json("Case", "The case."),
                              "404": _problem_response("No case with this reference from this channel."),
                              **COMMON_ERRORS},
            }},
            "/api/v1/categories": {"get": {
                "operationId": "listCategories",
                "summary": "Dispute categories a submission may name",
                "responses": {"200": {"description": "Categories.", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Category"}}}}},
                    **COMMON_ERRORS},
            }},
            "/api/v1/channel": {"get": {
                "operationId": "getChannel",
                "summary": "The channel and jurisdiction of the token",
                "responses": {"200": _json("Channel", "The channel."), **COMMON_ERRORS},
            }},
            "/api/v1/channel/callback": {"put": {
                "operationId": "setCallback",
                "summary": "Register (or remove) the callback URL; answers with the signing secret",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CallbackRegistration"}}}},
                "responses": {"200": _json("Channel", "The channel, with `signing_secret`."),
                              **BODY_ERRORS, **COMMON_ERRORS},
            }},
            "/api/v1/openapi.json": {"get": {
                "operationId": "getOpenApi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {
                    "schema": {"type": "object"}}}}},
            }},
        },
        "components": {
            "securitySchemes": {"channelToken": {
                "type": "http", "scheme": "bearer",
                "description": "A channel token (fq_…), one per channel and jurisdiction, issued by an administrator."}},
            "schemas": {"Submission": SUBMISSION, "Party": PARTY, "CallbackRegistration": CALLBACK,
                        "Case": CASE, "Progress": PROGRESS, "Result": RESULT, "Channel": CHANNEL,
                        "Category": CATEGORY, "Problem": PROBLEM},
        },
        "x-problem-types": {name: {"status": status, "title": title, "description": description}
                            for name, (status, title, description) in PROBLEM_TYPES.items()},
    }
