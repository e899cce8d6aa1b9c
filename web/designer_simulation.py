"""模拟运行 on the draft page: run the draft as the designer sees it now (saved or not) with a fake
clock and scripted answers, and show path by path who gets which task by when. A thin layer over
engine/draft_simulation.py; nothing is written to the database.

Access is the draft page's own (web/designer.py `_draft`): another county's draft answers 404.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request

from engine.calendar import SHANGHAI
from engine.draft_files import DraftFileError, check_file_name
from engine.draft_simulation import SimulationInputError, SimulationReport, default_answers, simulate
from engine.drafts import DESIGNER

from .designer import _draft
from .extensions import db
from .services import services
from .session_user import role_required

bp = Blueprint("designer_simulation", __name__)

OUTCOME_NAMES = {"completed": "已办理", "cancelled": "已撤回", "open": "未办理"}
TIME_FORMAT = "%Y-%m-%d %H:%M"


class BadRequest(ValueError):
    """A request body the simulation cannot use; `field` names the part at fault."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@bp.post("/designer/drafts/<int:draft_id>/simulate")
@role_required(DESIGNER)
def simulate_draft(draft_id: int):
    found = _draft(draft_id)
    try:
        body = _body()
        files = _files(body.get("files"), found.files)
        start = _start(body.get("start"))
        report = simulate(db.session, services().registry, found.category_code, found.jurisdiction_code, files,
                          start=start, answers=_object(body, "answers"), intake=_object(body, "intake"),
                          place=_text(body, "place"), script_limits=services().runtime.script_limits)
    except (BadRequest, SimulationInputError) as exc:
        message = str(exc) if isinstance(exc, BadRequest) else str(exc).removeprefix(f"{exc.field}: ")
        return jsonify(message=f"未能模拟：{exc.field}：{message}", field=exc.field), 400
    finally:
        db.session.rollback()  # the simulation only reads; leave nothing open
    return jsonify(report_json(report))


@bp.get("/designer/drafts/<int:draft_id>/simulate/defaults")
@role_required(DESIGNER)
def defaults(draft_id: int):
    """What the answers box starts with: the generated answer of each user task of the saved draft."""
    found = _draft(draft_id)
    now = services().clock.now()
    answers = default_answers(db.session, services().registry, found.category_code, found.jurisdiction_code,
                              dict(found.files), now)
    db.session.rollback()
    return jsonify(answers=answers, start=now.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M"))


def report_json(report: SimulationReport) -> dict[str, Any]:
    """The report as the page reads it: times as Beijing time text, names next to codes."""
    data = _plain(asdict(report))
    data["ran"] = report.ran
    for path, source in zip(data["paths"], report.paths):
        path["status_name"] = source.status_name
        for step in path["steps"]:
            step["outcome_name"] = OUTCOME_NAMES.get(step["outcome"], step["outcome"])
    return data


# -- reading the request -----------------------------------------------------------------------------

def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("body", "请求内容应为 JSON 对象 {files, start, answers}")
    return body


def _files(value: Any, saved: dict[str, str]) -> dict[str, str]:
    """The page's current files (same shape as saving), or the saved ones when none are sent."""
    if value is None:
        return dict(saved)
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise BadRequest("files", "应为 {文件名: 文本}")
    try:
        return {check_file_name(name): text for name, text in value.items()}
    except DraftFileError as exc:
        raise BadRequest("files", str(exc)) from None


def _start(value: Any) -> datetime:
    """ISO date and time; without a zone it is Beijing time (what a datetime-local input sends)."""
    if value in (None, ""):
        return services().clock.now()
    try:
        start = datetime.fromisoformat(str(value))
    except ValueError:
        raise BadRequest("start", f"开始时间 {value!r} 不是日期时间（如 2026-04-30T09:00）") from None
    return start if start.tzinfo is not None else start.replace(tzinfo=SHANGHAI)


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        raise BadRequest(key, "应为 JSON 对象 {名称: 值}")
    return value


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(key, "应为文本")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime(TIME_FORMAT)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
