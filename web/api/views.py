"""/api/v1 resources: submit a case, pull its status by the channel's reference, categories, the
channel itself and its callback URL."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, g, jsonify, request, url_for
from sqlalchemy import select

from engine import channels
from engine.case_progress import case_progress
from engine.channel_results import RESULT_TEXT
from engine.errors import ConflictError, FieldError, Forbidden, FormInvalid, NotFound, ProcessError
from engine.forms import Form
from engine.models import ChannelNotification

from ..extensions import db
from ..services import services
from . import bp
from .openapi import CALLBACK, SUBMISSION
from .problems import problem

SUBMISSION_FORM = Form.from_schema("submission", SUBMISSION)
CALLBACK_FORM = Form.from_schema("callback", CALLBACK)


class BodyError(Exception):
    def __init__(self, response):
        self.response = response


@bp.errorhandler(BodyError)
def body_error(exc: BodyError):
    return exc.response


@bp.post("/cases")
def submit_case():
    data = _body(SUBMISSION_FORM)
    due = data.get("source_deadline")
    if due is not None and _aware_time(due) is None:
        return problem("validation", errors=[FieldError("source_deadline", "应为带时区的日期时间（RFC 3339）")])
    try:
        submitted = channels.submit(db.session, services().runtime, g.channel, data)
    except FormInvalid as exc:
        return problem("validation", errors=exc.errors)
    except Forbidden as exc:
        return problem("forbidden", str(exc))
    except channels.ReferenceReused as exc:
        return problem("reference-reused", str(exc), case_code=exc.case.code)
    except ConflictError as exc:
        db.session.rollback()
        return problem("conflict", str(exc))
    except ProcessError as exc:
        current_app.logger.error("process error on channel submission: %s", exc)
        return problem("server-error", "流程定义执行出错，案件未创建")
    body = _case_json(submitted.case)
    if not submitted.created:
        return jsonify(body), 200
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("api_v1.get_case", reference=submitted.case.source_reference)
    return response


@bp.get("/cases/<path:reference>")
def get_case(reference: str):
    try:
        case = channels.channel_case(db.session, g.channel, reference)
    except NotFound:
        return problem("not-found", "本渠道在其辖区内没有此编号的案件")
    return jsonify(_case_json(case))


@bp.get("/categories")
def categories():
    registry = services().registry
    answer = []
    for code, category in sorted(registry.categories.items()):
        intake = registry.forms.get(category.intake_form) if category.intake_form in registry.forms else None
        fields = (intake.schema.get("properties", {}) if intake else {})
        answer.append({"code": code, "name": category.name,
                       "extra_fields": {name: spec.get("title", name) for name, spec in fields.items()
                                        if name not in channels.COMMON_INTAKE_FIELDS}})
    return jsonify(answer)


@bp.get("/channel")
def channel():
    return jsonify(_channel_json())


@bp.put("/channel/callback")
def set_callback():
    data = _body(CALLBACK_FORM)
    channel = g.channel.channel
    try:
        channels.set_callback(channel, data["url"])
    except channels.ChannelError as exc:
        return problem("validation", errors=[FieldError("url", str(exc))])
    db.session.commit()
    return jsonify({**_channel_json(), "signing_secret": channel.callback_secret})


def _body(form: Form) -> dict:
    """The request's JSON body, validated by `form`; raises BodyError with the problem to answer."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise BodyError(problem("unsupported-media-type"))
    data = request.get_json(silent=True)
    if data is None:
        raise BodyError(problem("validation", "请求体不是有效的 JSON", status=400))
    try:
        return form.validate(data)
    except FormInvalid as exc:
        raise BodyError(problem("validation", errors=exc.errors)) from None


def _aware_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _channel_json() -> dict:
    principal = g.channel
    return {"code": principal.channel.code, "name": principal.channel.name, "kind": principal.channel.kind,
            "jurisdiction": principal.jurisdiction_code, "callback_url": principal.channel.callback_url}


def _case_json(case) -> dict:
    category = services().registry.categories.get(case.category_code)
    notifications = db.session.scalars(select(ChannelNotification).where(ChannelNotification.case_id == case.id)
                                       .order_by(ChannelNotification.sequence)).all()
    return {
        "case_code": case.code, "reference": case.source_reference, "category": case.category_code,
        "category_name": category.name if category else case.category_code, "jurisdiction": case.jurisdiction_code,
        "source_deadline": case.source_due_at.isoformat() if case.source_due_at else None,
        "progress": case_progress(db.session, case).as_json(),
        "results": [{"sequence": n.sequence, "result": n.result, "result_text": RESULT_TEXT[n.result],
                     "at": n.created_at.isoformat(), "delivered": n.state == "delivered"} for n in notifications],
    }
