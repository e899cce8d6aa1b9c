"""RFC 9457 problem details: every error the JSON API returns is `application/problem+json`.

`type` is a URI reference under /api/v1/problems/, where each type is described; `errors` lists the
invalid fields of a 422 with a JSON pointer into the request body, so a channel can act on each.
"""
from __future__ import annotations

from flask import jsonify, request

from engine.errors import FieldError

MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPES = {
    "unauthorized": (401, "未认证", "Missing, unknown or revoked channel token (Authorization: Bearer …)."),
    "forbidden": (403, "无权操作", "The channel's token does not cover the jurisdiction asked for."),
    "not-found": (404, "未找到", "No such resource for this channel (or not in its jurisdiction)."),
    "method-not-allowed": (405, "方法不允许", "The resource does not support this HTTP method."),
    "reference-reused": (409, "编号已使用", "The reference was sent before with different content; the first case stands."),
    "conflict": (409, "办理冲突", "Someone changed the case at the same time; retry."),
    "payload-too-large": (413, "内容过大", "The request body is larger than allowed."),
    "unsupported-media-type": (415, "格式不支持", "Send the body as application/json."),
    "validation": (422, "内容不符合要求", "The body does not satisfy the schema; see `errors`."),
    "too-many-requests": (429, "请求过于频繁", "Rate limit reached; retry after the Retry-After seconds."),
    "server-error": (500, "系统错误", "The server failed; nothing was saved. Retry later."),
}


def type_uri(name: str) -> str:
    return f"/api/v1/problems/{name}"


def problem(name: str, detail: str | None = None, *, status: int | None = None, errors: list[FieldError] | None = None,
            headers: dict | None = None, **extensions):
    """A problem response of type `name` (a key of PROBLEM_TYPES)."""
    default_status, title, description = PROBLEM_TYPES[name]
    body = {"type": type_uri(name), "title": title, "status": status or default_status,
            "detail": detail or description, "instance": request.path}
    if errors:
        body["errors"] = [{"field": e.field, "pointer": pointer(e.field), "detail": e.message} for e in errors]
    body.update(extensions)
    response = jsonify(body)
    response.status_code = body["status"]
    response.mimetype = MEDIA_TYPE
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def pointer(field: str) -> str:
    """A JSON pointer (RFC 6901) for a dotted field path: applicant.phone → #/applicant/phone."""
    if not field:
        return "#"
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in field.split("."))
