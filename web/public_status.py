"""办理进度查询: the public page where a citizen follows a case by its code, with no staff login.

The proof is the case code (printed on the 受理告知单, also as a QR code) together with the last four
digits of the phone number the applicant gave at registration. A wrong code and wrong digits get one
identical answer, so the page does not tell which codes exist. Guessing is held back twice
(Flask-Limiter, web/extensions.py): lookups per client IP, and failed lookups per case code — after
STATUS_CODE_FAILURE_LIMIT failures that code is locked for everyone until the window ends.

A verified lookup is remembered in the session for STATUS_SESSION_SECONDS (by the app's clock), so
the citizen can give the 回访 satisfaction feedback without typing the code again; 「退出查询」 forgets it.
The page shows only `engine.case_progress`: stage, center and department, due date, result and the
public milestones — never other parties, internal notes, risk colours, staff names or documents.
"""
from __future__ import annotations

import hmac
import re
import unicodedata

from flask import (
    Blueprint, Flask, current_app, g, has_request_context, redirect, render_template, request, session, url_for,
)
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from engine.actors import Actor
from engine.case_progress import case_progress, feedback, milestones
from engine.errors import ConflictError, FormInvalid
from engine.models import Case

from .extensions import db, limiter
from .services import services

bp = Blueprint("public_status", __name__)

# The citizen answering 回访 here: no grants, so it can do nothing but what this page does for it.
CITIZEN = Actor("citizen", frozenset(), "当事人（群众）")

LOOKUP_FAILED = "案件编号或手机号后四位不正确"
TOO_MANY = "尝试次数过多，请稍后再试"
EXPIRED = "查询已超时或已退出，请重新输入案件编号及手机号后四位"
SESSION_KEY = "status_case"  # {"case_id": …, "until": POSIX seconds}
NOTICE_KEY = "status_notice"  # one message for the next page, kept apart from the staff pages' flashes
MAX_CODE = 64
MAX_COMMENT = 500
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


def public_base_url(app: Flask) -> str | None:
    """Where citizens reach this site: PUBLIC_BASE_URL, else the address of the current request
    (None outside a request, e.g. the timer sweep: that notice then carries no QR code)."""
    configured = app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    return request.url_root.rstrip("/") if has_request_context() else None


# -- pages ----------------------------------------------------------------------------------------

@bp.get("/status")
def page():
    case = _verified_case()
    asked = _normalised(request.args.get("code", ""))[:MAX_CODE]
    if case is not None and (not asked or asked == case.code):
        return _progress_page(case)
    return _lookup_page(code=asked)


def _submitted_code() -> str:
    return _normalised(request.form.get("code", ""))[:MAX_CODE]


def _code_key() -> str:
    return "status-code:" + _submitted_code()


@bp.post("/status")
@limiter.limit(lambda: current_app.config["STATUS_LOOKUP_LIMITS"], key_func=get_remote_address)
@limiter.limit(lambda: current_app.config["STATUS_CODE_FAILURE_LIMIT"], key_func=_code_key,
               exempt_when=lambda: not _submitted_code(),
               deduct_when=lambda response: g.get("status_lookup_failed", False))
def lookup():
    code = _submitted_code()
    case = _match(code, _normalised(request.form.get("phone_last4", "")))
    if case is None:
        g.status_lookup_failed = True  # counted against this code (deduct_when above)
        return _lookup_page(code=code, error=LOOKUP_FAILED)
    session[SESSION_KEY] = {"case_id": case.id,
                            "until": _now() + current_app.config["STATUS_SESSION_SECONDS"]}
    return redirect(url_for(".page"))


@bp.post("/status/feedback")
def give_feedback():
    case = _verified_case()
    if case is None:
        return _lookup_page(error=EXPIRED, status=403)
    satisfaction = request.form.get("satisfaction", "")
    comment = request.form.get("comment", "").strip()
    if satisfaction not in SATISFACTION:
        return _progress_page(case, error="请选择满意度", comment=comment, status=422)
    if len(comment) > MAX_COMMENT:
        return _progress_page(case, error=f"意见不能超过{MAX_COMMENT}字", comment=comment,
                              satisfaction=satisfaction, status=422)
    task_id = feedback(db.session, case).task_id
    if task_id is None:
        return _progress_page(case, error=_not_open_message(case), status=409)
    data = {"satisfaction": satisfaction, **({"follow_up_note": comment} if comment else {})}
    try:
        services().runtime.complete_on_behalf(db.session, task_id, data, CITIZEN)
    except ConflictError:  # TaskNotReady too: staff finished the 回访 (or another tab did) meanwhile
        db.session.rollback()
        return _progress_page(db.session.get(Case, case.id), error=_not_open_message(case), status=409)
    except FormInvalid:
        db.session.rollback()
        return _progress_page(case, error="评价内容不符合要求，请修改后重新提交", comment=comment, status=422)
    session[NOTICE_KEY] = f"已收到您的评价（{SATISFACTION[satisfaction]}），感谢您的反馈。"
    return redirect(url_for(".page"))


@bp.get("/status/exit")
def leave():
    session.pop(SESSION_KEY, None)
    session.pop(NOTICE_KEY, None)
    return redirect(url_for(".page"))


@bp.errorhandler(429)
def too_many(_exc):
    return _lookup_page(code=_submitted_code(), error=TOO_MANY, status=429)


@bp.errorhandler(CSRFError)
def csrf_failed(_exc):
    return _lookup_page(error="页面已过期，请刷新页面后重新提交", status=400)


# -- helpers --------------------------------------------------------------------------------------

def _normalised(value: str) -> str:
    # Full-width digits and hyphens from a Chinese input method count as the ASCII ones.
    return unicodedata.normalize("NFKC", value).strip()


def _match(code: str, digits: str) -> Case | None:
    """The case if `code` exists and `digits` are the last four of its applicant's phone."""
    case = db.session.scalars(select(Case).where(Case.code == code)).first() if code else None
    expected = _last_four((case.intake or {}).get("applicant_phone")) if case is not None else None
    given = digits if re.fullmatch(r"[0-9]{4}", digits) else ""
    # Compared in constant time, and compared even when there is nothing to match, so a reply's
    # timing says as little as its text.
    same = hmac.compare_digest((expected or "----").encode(), given.encode())
    return case if same and expected is not None else None


def _last_four(phone) -> str | None:
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", str(phone or "")))
    return digits[-4:] if len(digits) >= 4 else None


def _now() -> float:
    return services().clock.now().timestamp()


def _verified_case() -> Case | None:
    """The case this browser proved it may follow, while the proof is fresh."""
    verified = session.get(SESSION_KEY)
    if not isinstance(verified, dict):
        return None
    if not isinstance(verified.get("until"), (int, float)) or _now() > verified["until"]:
        session.pop(SESSION_KEY, None)
        return None
    case = db.session.get(Case, verified.get("case_id"))
    if case is None:
        session.pop(SESSION_KEY, None)
    return case


def _not_open_message(case: Case) -> str:
    if feedback(db.session, case).given:
        return "本案回访已完成，已收到评价，无需重复提交。感谢您的反馈。"
    return "本案尚未进入回访阶段。案件办结并告知处理结果后，可在此对办理情况进行评价。"


def _respond(html: str, status: int = 200):
    # Personal progress must not stay in shared or browser caches.
    return html, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _lookup_page(code: str = "", error: str | None = None, status: int = 200):
    return _respond(render_template("public/status_lookup.html", code=code, error=error), status)


def _progress_page(case: Case, error: str | None = None, comment: str = "", satisfaction: str = "",
                   status: int = 200):
    progress = case_progress(db.session, case)
    category = services().registry.categories.get(case.category_code)
    return _respond(render_template(
        "public/status_progress.html", progress=progress, milestones=milestones(db.session, case),
        feedback=feedback(db.session, case), category_name=category.name if category else "",
        notice=session.pop(NOTICE_KEY, None), error=error, comment=comment, satisfaction=satisfaction,
        choices=SATISFACTION, max_comment=MAX_COMMENT,
        not_open_message=_not_open_message(case)), status)
