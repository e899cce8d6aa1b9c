"""重复件 on the web: the 「可能重复」 panel of 登记纠纷, the 「关联案件」 section of the case page and
linking a case to an earlier one afterwards. The rules are engine/duplicates.py.

Registration (web/cases.py `new`) asks `check_submission` once the form is valid. With candidates
and no decision yet, the form comes back with every value kept and the panel (`case_duplicates.html`);
the clerk's choice comes back in `_duplicate_decision` (new / repeat / merge) and, for the last two,
the earlier case's id in `_duplicate_earlier`. That id is only accepted if it is one of the
candidates computed again for this request with the actor's own `case_filter`: a hidden field is
never trusted.

The look-back window is the app setting DUPLICATE_WINDOW_DAYS: a number of days, or a mapping
jurisdiction code → days read nearest first up the tree ("" for everyone else); 90 days without it.
(A county variant's variant.toml accepts a fixed set of keys that shape process definitions, so
this setting lives in the app configuration instead.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Mapping

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from engine import duplicates
from engine.actors import Actor
from engine.duplicates import Candidate, LinkError
from engine.models import Case, CaseEvent, Jurisdiction
from engine.queries import STATUS_NAMES, get_case, get_case_by_code
from engine.variant_lookup import ancestors

from .extensions import db
from .masking import mask_id, mask_phone
from .services import services
from .session_user import current_actor, current_user, login_required

bp = Blueprint("duplicates", __name__)

DECISION_FIELD, EARLIER_FIELD = "_duplicate_decision", "_duplicate_earlier"
WINDOW_SETTING = "DUPLICATE_WINDOW_DAYS"
CHOICES = {"new": "不是重复，继续登记", "repeat": "登记并关联为重复投诉", "merge": "并入已有案件"}


@dataclass(frozen=True)
class CandidateRow:
    """One earlier case as the panels show it: parties' numbers masked."""

    id: int
    code: str
    title: str
    category: str
    registered: datetime
    place: str
    status: str
    reasons: str
    score: int
    applicant: str
    phone: str
    id_number: str
    respondent: str


@dataclass
class Check:
    """The duplicate check of one registration request: candidates now, and what the clerk chose."""

    candidates: list[Candidate]
    decision: str | None = None  # new / repeat / merge; None: not decided yet
    earlier: Case | None = None
    error: str = ""
    rows: list[CandidateRow] = field(default_factory=list)
    chosen: str = ""  # the earlier case's id as posted, so the clerk's selection is kept
    decision_field: ClassVar[str] = DECISION_FIELD
    earlier_field: ClassVar[str] = EARLIER_FIELD
    choices: ClassVar[dict[str, str]] = CHOICES

    @property
    def needs_decision(self) -> bool:
        return bool(self.error) or (bool(self.candidates) and self.decision is None)


def window(place: str) -> timedelta:
    return duplicates.window_for(current_app.config.get(WINDOW_SETTING), ancestors(db.session, place))


# -- registration -------------------------------------------------------------------------------

def check_submission(actor: Actor, category_code: str, intake: Mapping[str, Any], place: str) -> Check:
    """Candidates for a valid submission and the clerk's decision as posted, re-checked against them."""
    now = services().clock.now()
    candidates = duplicates.find_candidates(db.session, actor, category_code, intake, place, now, window(place))
    check = Check(candidates, rows=candidate_rows(candidates))
    check.chosen = request.form.get(EARLIER_FIELD, "")
    decision = request.form.get(DECISION_FIELD) or None
    if decision not in CHOICES:
        return check  # nothing (or nonsense) chosen: ask, if there is anything to ask about
    check.decision = decision
    if decision in ("repeat", "merge"):
        check.earlier = next((c.case for c in candidates if str(c.case.id) == check.chosen), None)
        if check.earlier is None:
            check.error = "所选的已有案件不在可能重复的案件之中（或不在您的管辖范围内），请重新选择。"
    return check


def merge(actor: Actor, check: Check, intake: Mapping[str, Any], place: str) -> Case:
    """「并入已有案件」: no case is created; the submission goes into the earlier case's record."""
    earlier = check.earlier
    duplicates.merge_submission(db.session, earlier, intake, actor, services().clock.now(), jurisdiction_code=place)
    db.session.commit()
    return earlier


def record(actor: Actor, case: Case, check: Check) -> None:
    """On a case just registered (not yet committed): the check's candidates and decision, and the
    link when the clerk chose 「登记并关联为重复投诉」."""
    if not check.candidates:
        return
    now = services().clock.now()
    decision = "repeat" if check.decision == "repeat" else "new"
    duplicates.record_check(db.session, case, check.candidates, decision, actor, now,
                            earlier=check.earlier if decision == "repeat" else None)
    if decision == "repeat":
        duplicates.link(db.session, case, check.earlier, duplicates.REPEAT, "登记时关联", actor, now)


def candidate_rows(candidates: list[Candidate]) -> list[CandidateRow]:
    places = _place_names({c.case.jurisdiction_code for c in candidates})
    categories = services().registry.categories
    rows = []
    for candidate in candidates:
        case, intake = candidate.case, candidate.case.intake or {}
        category = categories.get(case.category_code)
        rows.append(CandidateRow(
            id=case.id, code=case.code, title=case.title, category=category.name if category else case.category_code,
            registered=case.created_at, place=places.get(case.jurisdiction_code, case.jurisdiction_code),
            status=STATUS_NAMES.get(case.status, case.status), reasons="、".join(candidate.reasons),
            score=candidate.score, applicant=str(intake.get("applicant_name") or ""),
            phone=mask_phone(intake.get("applicant_phone")) if intake.get("applicant_phone") else "",
            id_number=mask_id(intake.get("applicant_id_number")) if intake.get("applicant_id_number") else "",
            respondent=str(intake.get("respondent_name") or "")))
    return rows


def _place_names(codes: set[str]) -> dict[str, str]:
    rows = db.session.execute(select(Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.code.in_(codes)))
    return {code: f"{name}（{code}）" for code, name in rows}


# -- the case page ------------------------------------------------------------------------------

@bp.app_context_processor
def inject_link_panel():
    return {"link_panel": link_panel}


def link_panel(case: Case) -> dict:
    """What the 「关联案件」 section shows: links both ways, merged submissions, the check made at
    registration, and — for staff who may register at the case's place — live candidates and a form."""
    if current_user() is None:
        return {}
    actor, session = current_actor(), db.session
    links = duplicates.case_links(session, actor, case)
    may_link = actor.can_register(case.jurisdiction_code) and not case.is_repeat
    candidates = (duplicates.candidates_for_case(session, actor, case, window(case.jurisdiction_code))
                  if may_link else [])
    check = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                    CaseEvent.kind == duplicates.CHECK_EVENT)
                            .order_by(CaseEvent.id.desc())).first()
    if not (links.repeat_of or links.repeated_by or links.merged or may_link or check):
        return {}
    return {"repeat_of": links.repeat_of, "repeated_by": links.repeated_by, "merged": links.merged,
            "may_link": may_link, "candidates": candidate_rows(candidates), "check": check}


@bp.post("/cases/<int:case_id>/link")
@login_required
def link_case(case_id: int):
    """Link a case registered earlier without the check (a channel's, a grid report) as a repeat complaint.

    The case and the earlier one must both be readable (404 otherwise, as for any id); the user must
    be able to register at the case's place (403)."""
    actor = current_actor()
    case = get_case(db.session, actor, case_id)
    if not actor.can_register(case.jurisdiction_code):
        abort(403)
    back = redirect(url_for("cases.detail", case_id=case_id) + "#links"), 303
    code = (request.form.get("earlier_code_other") or request.form.get("earlier_code") or "").strip()
    if not code:
        flash("请选择或填写要关联的已有案件编号", "error")
        return back
    earlier = get_case_by_code(db.session, actor, code)  # NotFound → 404, like any id outside
    try:
        duplicates.link(db.session, case, earlier, duplicates.REPEAT, request.form.get("note", ""), actor,
                        services().clock.now())
        db.session.commit()
    except LinkError as exc:
        db.session.rollback()
        flash(f"未能关联：{exc}", "error")
    except StaleDataError:
        db.session.rollback()
        flash("案件刚被他人修改，请刷新页面后重试", "error")
    else:
        flash(f"已关联为重复投诉：本案为 {earlier.code} 的重复投诉", "success")
    return back

