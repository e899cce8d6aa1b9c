"""重复件 / 重复投诉: earlier cases that are likely the same dispute, and the clerk's decision on them.

A submission is compared with the earlier cases of its category registered within a window (90
days unless configured, see `window_for`), that the actor may read (`Actor.case_filter`) and that
lie in the county of the submission's place: the same applicant phone (同一申请人电话), ID number
(同一证件号), applicant and respondent names (同一当事人) or address (同一地址, insensitive to
whitespace, full-width characters and punctuation). Each match adds to a score; candidates come
best first, then newest.

Why a table of match keys (`CaseMatchKey`) instead of querying `Case.intake`: parties and addresses
live in a JSON column, and neither SQLite nor PostgreSQL can index a JSON path in one portable way;
four more columns on `case` would each need an index and would copy personal data in clear. So
`index_case` — called by `CaseRuntime.start_case` for every case, whichever way it arrives (window,
channel, grid report, 台账 import) — writes one row per identifying value holding a SHA-256 of the
normalised value, never the value, and a search is one lookup on the (kind, digest) index joined to
`case`. `index_case` is idempotent: cases registered before the table existed can be indexed by
calling it once per case.

The decision is the clerk's:
- `link(..., "repeat")`: the new case stands on its own, is marked 重复投诉 (`Case.is_repeat`) and
  linked to the earlier case (`CaseLink`), with an event on both;
- `merge_submission`: the submission IS the earlier case. No case is created; everything the clerk
  typed is appended to the earlier case as a 「合并来件」 event;
- otherwise it is not a duplicate. `record_check` keeps the candidates and the decision on the new
  case, so 是否重复 is known for every case registered while candidates were shown.
Nothing here commits: the caller owns the transaction (registration creates the case, links it and
records the check all or nothing).
"""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case as when, delete, func, or_, select
from sqlalchemy.orm import Session

from .actors import REGISTERING_ROLES, Actor, jurisdiction_prefix
from .errors import EngineError, Forbidden, NotFound
from .events import EventLog
from .json_data import json_copy
from .models import Case, CaseEvent, CaseLink, CaseMatchKey

DEFAULT_WINDOW_DAYS = 90
MAX_CANDIDATES = 10
# Shorter normalised addresses ("无", "不详", a bare village name) say nothing about the dispute.
MIN_ADDRESS_LENGTH = 4
# kind → (the reason the clerk reads, its weight). An ID number identifies a person; a phone nearly
# (a family may share one); both parties' names together are strong; a shared address alone is weakest.
MATCHES = {
    "id_number": ("同一证件号", 50),
    "phone": ("同一申请人电话", 40),
    "parties": ("同一当事人", 30),
    "address": ("同一地址", 20),
}
REPEAT = "repeat"  # CaseLink.kind; a merged submission has no case of its own to link, only an event
LINKED_EVENT, MERGED_EVENT, CHECK_EVENT = "linked_as_repeat", "submission_merged", "duplicate_check"
# The clerk's decisions at registration (a merge creates no case, so only these two are recorded on one).
DECISIONS = {"new": "不是重复，继续登记", "repeat": "登记并关联为重复投诉"}


class LinkError(EngineError):
    """Two cases cannot be linked as asked. The message is shown to the clerk as it is."""


@dataclass(frozen=True)
class Candidate:
    """An earlier case that is likely the same dispute: why (reasons, strongest first) and how likely."""

    case: Case
    reasons: tuple[str, ...]
    score: int


@dataclass(frozen=True)
class RepeatCounts:
    """Repeat complaints (重复投诉) the actor may read, and per earlier case how many link to it."""

    total: int
    by_earlier: dict[int, int]


@dataclass(frozen=True)
class CaseLinks:
    """A case's links as the actor may read them."""

    repeat_of: list[tuple[CaseLink, Case]]  # earlier cases this case repeats
    repeated_by: list[tuple[CaseLink, Case]]  # later cases that repeat this one
    merged: list[CaseEvent]  # submissions merged into this case


# -- match keys ---------------------------------------------------------------------------------

def normalise_text(value: Any) -> str:
    """Text compared as a clerk would: full-width folded to half-width (NFKC), lower case, without
    whitespace, punctuation or symbols. "九原区 沙河镇，新河村３号" == "九原区沙河镇新河村3号"."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PZSC")


def _phone(value: Any) -> str:
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", str(value or "")) if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):  # +86 138…
        digits = digits[2:]
    return digits if len(digits) >= 7 else ""


def _id_number(value: Any) -> str:
    return normalise_text(value).upper()


def match_values(intake: Mapping[str, Any]) -> dict[str, str]:
    """The normalised identifying values of an intake, by kind; kinds without a usable value are left out."""
    address = normalise_text(intake.get("address"))
    applicant, respondent = normalise_text(intake.get("applicant_name")), normalise_text(intake.get("respondent_name"))
    values = {
        "phone": _phone(intake.get("applicant_phone")),
        "id_number": _id_number(intake.get("applicant_id_number")),
        "address": address if len(address) >= MIN_ADDRESS_LENGTH else "",
        "parties": f"{applicant}\x1f{respondent}" if applicant and respondent else "",
    }
    return {kind: value for kind, value in values.items() if value}


def match_keys(intake: Mapping[str, Any]) -> dict[str, str]:
    """kind → digest of each identifying value of an intake: what `case_match_key` stores."""
    return {kind: hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
            for kind, value in match_values(intake).items()}


def index_case(session: Session, case: Case) -> None:
    """(Re)write the match keys of `case` from its intake. Idempotent; the caller commits."""
    session.execute(delete(CaseMatchKey).where(CaseMatchKey.case_id == case.id))
    session.add_all(CaseMatchKey(case_id=case.id, kind=kind, digest=digest)
                    for kind, digest in match_keys(case.intake or {}).items())


# -- finding candidates -------------------------------------------------------------------------

def window_for(setting: int | Mapping[str, int] | None, chain: Sequence[str]) -> timedelta:
    """How far back to look for a submission at jurisdiction `chain[0]`.

    `setting` is a number of days, or a mapping jurisdiction code → days read nearest first along
    `chain` (engine.variant_lookup.ancestors; "" is everyone's default); without one, 90 days.
    """
    days: Any = DEFAULT_WINDOW_DAYS
    if isinstance(setting, Mapping):
        days = next((setting[code] for code in chain if code in setting), DEFAULT_WINDOW_DAYS)
    elif setting is not None:
        days = setting
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"duplicate window for {chain[0] if chain else 'the base'}: {days!r} is not a number "
                         "of days ≥ 1")
    return timedelta(days=days)


def find_candidates(session: Session, actor: Actor, category_code: str, intake: Mapping[str, Any],
                    jurisdiction_code: str, now: datetime, window: timedelta = timedelta(days=DEFAULT_WINDOW_DAYS),
                    *, before: Case | None = None, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Earlier cases likely to be the same dispute as `intake` submitted at `jurisdiction_code`.

    Only cases the actor may read, of the same category, registered in `[now - window, now]` and
    registered or handled in the county of `jurisdiction_code`. `before` names a case already
    registered (its candidates are the cases registered before it; pass its `created_at` as
    `now`), which is itself never a candidate. Best score first, then newest; at most `limit`.
    """
    keys = match_keys(intake)
    if not keys:
        return []
    matched = or_(*(and_(CaseMatchKey.kind == kind, CaseMatchKey.digest == digest) for kind, digest in keys.items()))
    conditions = [matched, Case.category_code == category_code, Case.created_at >= now - window,
                  Case.created_at <= now, actor.case_filter(), _county_of(jurisdiction_code)]
    if before is not None:
        conditions.append(or_(Case.created_at < before.created_at,
                              and_(Case.created_at == before.created_at, Case.id < before.id)))
    score = func.sum(when(*((CaseMatchKey.kind == kind, weight) for kind, (_, weight) in MATCHES.items()),
                          else_=0)).label("score")
    ranked = session.execute(
        select(Case.id, score).join(CaseMatchKey, CaseMatchKey.case_id == Case.id).where(*conditions)
        .group_by(Case.id, Case.created_at).order_by(score.desc(), Case.created_at.desc(), Case.id.desc())
        .limit(limit)).all()
    if not ranked:
        return []
    ids = [row.id for row in ranked]
    cases = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(ids)))}
    kinds: dict[int, set[str]] = {}
    for case_id, kind in session.execute(select(CaseMatchKey.case_id, CaseMatchKey.kind)
                                         .where(CaseMatchKey.case_id.in_(ids), matched)):
        kinds.setdefault(case_id, set()).add(kind)
    return [Candidate(cases[row.id], tuple(reason for kind, (reason, _) in MATCHES.items() if kind in kinds[row.id]),
                      int(row.score)) for row in ranked]


def candidates_for_case(session: Session, actor: Actor, case: Case, window: timedelta) -> list[Candidate]:
    """Candidates for a case already registered (a channel's or a grid worker's), as they were when it came in."""
    return find_candidates(session, actor, case.category_code, case.intake or {}, case.jurisdiction_code,
                           case.created_at, window, before=case)


def _county_of(jurisdiction_code: str):
    """Cases registered or handled in the county (or, for a city-level place, the city) of the place."""
    if not jurisdiction_code:
        return Case.id.isnot(None)
    prefix = jurisdiction_prefix(jurisdiction_code[:6])
    return or_(Case.jurisdiction_code.startswith(prefix, autoescape=True),
               Case.handling_jurisdiction_code.startswith(prefix, autoescape=True))


# -- decisions ----------------------------------------------------------------------------------

def link(session: Session, case: Case, earlier: Case, kind: str, note: str, actor: Actor,
         now: datetime) -> CaseLink:
    """Link `case` to `earlier` as a repeat complaint (重复投诉): `case.is_repeat` is set, a `CaseLink`
    recorded and 「关联为重复投诉」 logged on both cases. A submission that is the earlier case itself
    is not linked but merged (`merge_submission`).

    NotFound if the actor may not read either case, Forbidden if they may not register at the
    case's place, LinkError if the link makes no sense (itself, a later case, already linked).
    """
    if kind != REPEAT:
        raise LinkError(f"关联方式只能是重复投诉（{REPEAT}）；来件就是已有案件时应并入已有案件，而不是关联")
    _check_readable(session, actor, case, earlier)
    if not (actor.roles & REGISTERING_ROLES and actor.can_register(case.jurisdiction_code)):
        raise Forbidden(f"{actor.username} may not register cases at {case.jurisdiction_code}, so may not link them")
    if earlier.id == case.id:
        raise LinkError("案件不能关联为自身的重复投诉")
    if (earlier.created_at, earlier.id) > (case.created_at, case.id):
        raise LinkError(f"{earlier.code} 登记晚于 {case.code}；重复投诉应关联到先登记的案件")
    existing = session.scalars(select(CaseLink).where(CaseLink.case_id == case.id, CaseLink.kind == REPEAT)).first()
    if existing is not None:
        first = session.get(Case, existing.earlier_case_id)
        raise LinkError(f"{case.code} 已关联为 {first.code if first else '其他案件'} 的重复投诉")
    row = CaseLink(case_id=case.id, earlier_case_id=earlier.id, kind=REPEAT, note=(note or "").strip()[:300],
                   created_by=actor.username, created_at=now)
    session.add(row)
    case.is_repeat = True
    data = {"kind": REPEAT, "case_id": case.id, "case_code": case.code, "earlier_case_id": earlier.id,
            "earlier_case_code": earlier.code, "note": row.note}
    EventLog(session, case.id, now).add(actor.username, LINKED_EVENT,
                                        f"关联为重复投诉：本案为 {earlier.code} 的重复投诉", data=data)
    EventLog(session, earlier.id, now).add(actor.username, LINKED_EVENT,
                                           f"关联为重复投诉：{case.code} 为本案的重复投诉", data=data)
    session.flush()
    return row


def merge_submission(session: Session, earlier: Case, intake: Mapping[str, Any], actor: Actor, now: datetime,
                     *, jurisdiction_code: str | None = None) -> CaseEvent:
    """Fold a submission into `earlier` (the clerk decided it IS that case): no case is created; the
    submitted intake is appended to `earlier` whole as a 「合并来件」 event.

    The caller has validated `intake` against the intake form in force; `jurisdiction_code` is the
    place the clerk chose for the submission, kept in the summary when it differs from the case's.
    """
    if not actor.roles & REGISTERING_ROLES:
        raise Forbidden(f"merging a submission needs one of the roles {', '.join(sorted(REGISTERING_ROLES))}")
    _check_readable(session, actor, earlier)
    title = str(intake.get("title") or "").strip()
    place = (f"（纠纷发生地 {jurisdiction_code}）"
             if jurisdiction_code and jurisdiction_code != earlier.jurisdiction_code else "")
    event = EventLog(session, earlier.id, now).add(actor.username, MERGED_EVENT,
                                                   f"合并来件：{title}{place}" if title else f"合并来件{place}",
                                                   data=json_copy(dict(intake)))
    session.flush()
    return event


def record_check(session: Session, case: Case, candidates: Sequence[Candidate], decision: str, actor: Actor,
                 now: datetime, earlier: Case | None = None) -> CaseEvent | None:
    """Keep on a newly registered case the candidates the clerk was shown and what they decided
    ("new": not a duplicate, "repeat": linked to `earlier`). Nothing is recorded without candidates."""
    if not candidates:
        return None
    if decision not in DECISIONS:
        raise ValueError(f"unknown duplicate decision {decision!r}; use one of {', '.join(DECISIONS)}")
    if (decision == "repeat") != (earlier is not None):
        raise ValueError("a repeat decision names the earlier case, and only a repeat decision does")
    data = {"decision": decision, "earlier_case_id": earlier.id if earlier else None,
            "candidate_ids": [c.case.id for c in candidates],
            "candidates": [{"case_id": c.case.id, "code": c.case.code, "score": c.score, "reasons": list(c.reasons)}
                           for c in candidates]}
    outcome = f"登记并关联为 {earlier.code} 的重复投诉" if decision == "repeat" else "经核对不是重复"
    return EventLog(session, case.id, now).add(
        actor.username, CHECK_EVENT, f"重复件核查：可能重复 {len(candidates)} 件，{outcome}", data=data)


def _check_readable(session: Session, actor: Actor, *cases: Case) -> None:
    ids = {case.id for case in cases}
    readable = set(session.scalars(select(Case.id).where(Case.id.in_(ids), actor.case_filter())))
    for case in cases:
        if case.id not in readable:
            raise NotFound(f"case {case.id} does not exist")


# -- reading ------------------------------------------------------------------------------------

def repeat_counts(session: Session, actor: Actor, *, status: str | None = None,
                  earlier_ids: Sequence[int] | None = None) -> RepeatCounts:
    """How many repeat complaints the actor may read (of `status`, if given), and per earlier case
    (only `earlier_ids`, if given) how many readable repeat complaints link to it."""
    total = select(func.count()).select_from(Case).where(Case.is_repeat.is_(True), actor.case_filter())
    if status:
        total = total.where(Case.status == status)
    per_case = (select(CaseLink.earlier_case_id, func.count()).join(Case, Case.id == CaseLink.case_id)
                .where(CaseLink.kind == REPEAT, actor.case_filter()).group_by(CaseLink.earlier_case_id))
    if earlier_ids is not None:
        per_case = per_case.where(CaseLink.earlier_case_id.in_(list(earlier_ids)))
    return RepeatCounts(session.scalar(total) or 0, {case_id: n for case_id, n in session.execute(per_case)})


def case_links(session: Session, actor: Actor, case: Case) -> CaseLinks:
    """Links both ways and merged submissions of `case`; linked cases the actor may not read are left out."""
    repeat_of = session.execute(
        select(CaseLink, Case).join(Case, Case.id == CaseLink.earlier_case_id)
        .where(CaseLink.case_id == case.id, actor.case_filter()).order_by(CaseLink.created_at, CaseLink.id)).all()
    repeated_by = session.execute(
        select(CaseLink, Case).join(Case, Case.id == CaseLink.case_id)
        .where(CaseLink.earlier_case_id == case.id, actor.case_filter())
        .order_by(Case.created_at, Case.id)).all()
    merged = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == MERGED_EVENT)
                             .order_by(CaseEvent.id)).all()
    return CaseLinks([tuple(row) for row in repeat_of], [tuple(row) for row in repeated_by], list(merged))
