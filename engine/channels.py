"""Intake channels (双向移送): the systems that send cases in and hear results back.

A channel (12345, 110, 法院, 信访, a 网格 app, another level's center) holds one token per
jurisdiction it serves. Only a SHA-256 of a token is stored; the token is shown once when issued.
A channel creates cases only inside its token's jurisdiction and reads only the cases it sent.

`submit` turns a submission into a case through the normal registration (the intake form of the
version in force validates it), and is idempotent per (channel, reference): the reference is claimed
by a unique row in the same transaction as the case, so a re-send — even a concurrent one — returns
the case the first send created.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .actors import Actor, Grant, code_covers
from .errors import EngineError, FieldError, Forbidden, FormInvalid, NotFound
from .models import Case, Channel, ChannelSubmission, ChannelToken, Jurisdiction

CHANNEL_KINDS = {
    "hotline_12345": "12345热线",
    "police_110": "110非警务警情",
    "court": "法院诉前",
    "petition": "信访",
    "grid": "网格员上报",
    "higher_level": "上级交办",
    "lower_level": "下级上报",
    "department": "部门推送",
    "online": "网上申请",
}
TOKEN_PREFIX = "fq_"
CHANNEL_ACTOR_PREFIX = "channel:"  # the event log names a channel's actions channel:<code>
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
# Categories a channel may leave open: the case is registered as 其他纠纷 and 研判 classifies it.
UNCLASSIFIED_CATEGORY = "other"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # do not write the token row on every request


class ChannelError(EngineError):
    """Bad channel or token data; `field` names the input at fault."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class ReferenceReused(EngineError):
    """The reference was already sent with different content; the first case stands."""

    def __init__(self, reference: str, case: Case):
        self.reference, self.case = reference, case
        super().__init__(f"reference {reference!r} was already submitted with different content "
                         f"and created case {case.code}; send changes to that case, not a new submission")


@dataclass(frozen=True)
class ChannelPrincipal:
    """An authenticated channel acting through one of its tokens."""

    channel: Channel
    token: ChannelToken

    @property
    def jurisdiction_code(self) -> str:
        return self.token.jurisdiction_code

    @property
    def actor(self) -> Actor:
        return Actor(f"{CHANNEL_ACTOR_PREFIX}{self.channel.code}", frozenset({Grant("channel", self.token.jurisdiction_code)}),
                     self.channel.name, self.token.jurisdiction_code)

    def covers(self, jurisdiction_code: str) -> bool:
        return code_covers(self.token.jurisdiction_code, jurisdiction_code)


@dataclass(frozen=True)
class Submitted:
    case: Case
    created: bool  # False: the reference was sent before and this is its case


# -- administering channels and tokens ------------------------------------------------------------

def create_channel(session: Session, code: str, name: str, kind: str, by: str, now: datetime,
                   callback_url: str | None = None) -> Channel:
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        raise ChannelError("code", "渠道代码应为2至40位小写字母、数字、下划线或连字符")
    if find_channel(session, code) is not None:
        raise ChannelError("code", f"渠道代码 {code} 已存在")
    if not (name or "").strip():
        raise ChannelError("name", "请填写渠道名称")
    if kind not in CHANNEL_KINDS:
        raise ChannelError("kind", "渠道类型无效，应为" + "、".join(CHANNEL_KINDS.values()) + "之一")
    channel = Channel(code=code, name=name.strip(), kind=kind, callback_url=_checked_url(callback_url),
                      callback_secret=secrets.token_urlsafe(32), active=True, created_by=by, created_at=now)
    session.add(channel)
    session.flush()
    return channel


def find_channel(session: Session, code: str) -> Channel | None:
    return session.scalar(select(Channel).where(Channel.code == code))


def set_callback(channel: Channel, callback_url: str | None) -> None:
    channel.callback_url = _checked_url(callback_url)


def rotate_callback_secret(channel: Channel) -> str:
    channel.callback_secret = secrets.token_urlsafe(32)
    return channel.callback_secret


def issue_token(session: Session, channel: Channel, jurisdiction_code: str, by: str, now: datetime,
                note: str = "") -> tuple[ChannelToken, str]:
    """A new token for `channel` in `jurisdiction_code`; returns the row and the token (shown once)."""
    if session.get(Jurisdiction, jurisdiction_code) is None:
        raise ChannelError("jurisdiction_code", f"行政区划 {jurisdiction_code} 不存在")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ChannelToken(channel_id=channel.id, jurisdiction_code=jurisdiction_code, token_hash=hash_token(plain),
                         prefix=plain[:10], note=note.strip()[:200], created_by=by, created_at=now)
    session.add(token)
    session.flush()
    return token, plain


def revoke_token(session: Session, token_id: int, by: str, now: datetime) -> ChannelToken:
    token = session.get(ChannelToken, token_id)
    if token is None:
        raise NotFound(f"channel token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by = now, by
    return token


def hash_token(plain: str) -> str:
    # Tokens are 256 random bits, so a fast hash is safe here (no dictionary to guess from).
    return hashlib.sha256(plain.encode()).hexdigest()


def authenticate(session: Session, plain: str | None, now: datetime) -> ChannelPrincipal | None:
    """The channel a bearer token belongs to, or None if unknown, revoked or the channel is disabled."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = session.scalar(select(ChannelToken).where(ChannelToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return None
    channel = session.get(Channel, token.channel_id)
    if channel is None or not channel.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.commit()
    return ChannelPrincipal(channel, token)


# -- cases in -----------------------------------------------------------------------------------------

# The submission's field paths for the intake form's fields, so errors point at what the channel sent.
INTAKE_PATHS = {
    "title": "title", "summary": "facts", "occurred_on": "occurred_on", "address": "address",
    "people_count": "people_count", "amount": "amount",
    "applicant_name": "applicant.name", "applicant_phone": "applicant.phone",
    "applicant_id_number": "applicant.id_number",
    "respondent_name": "respondent.name", "respondent_phone": "respondent.phone",
}
# Intake fields a submission sends as its own top-level fields (and `channel`, which the channel sets):
# never in `extra`.
COMMON_INTAKE_FIELDS = frozenset(INTAKE_PATHS) | {"channel"}


def intake_of(submission: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """The intake form's data for a submission (the API's field names → the form's)."""
    intake: dict[str, Any] = {"channel": channel.kind}
    for form_field, path in INTAKE_PATHS.items():
        value = submission
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            intake[form_field] = value
    for key, value in (submission.get("extra") or {}).items():
        intake.setdefault(key, value)
    return intake


def submit(session: Session, runtime, principal: ChannelPrincipal, submission: dict[str, Any]) -> Submitted:
    """Register the case a channel sends, or return the one its reference already created.

    `submission` has passed the API's schema; the intake form of the version in force at the place
    validates the rest (FormInvalid with the submission's own field paths; nothing is stored).
    """
    from .runtime import CaseSource  # runtime imports this module's neighbours; keep the cycle out

    channel, reference = principal.channel, submission["reference"]
    payload_hash = hashlib.sha256(json.dumps(submission, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    existing = _submission(session, channel.id, reference)
    if existing is not None:
        return _replay(session, existing, payload_hash, reference)
    place = submission["jurisdiction"]
    if not principal.covers(place):
        raise Forbidden(f"jurisdiction {place} is outside this channel token's jurisdiction "
                        f"{principal.jurisdiction_code}")
    if session.get(Jurisdiction, place) is None:
        raise FormInvalid("submission", [FieldError("jurisdiction", f"行政区划 {place} 不存在")])
    category = submission.get("category") or UNCLASSIFIED_CATEGORY
    if category not in runtime.registry.categories:
        raise FormInvalid("submission", [FieldError("category", f"未知的纠纷类别 {category}")])
    intake = intake_of(submission, channel)
    # Validate (and publish the version in force, which commits) before the reference is claimed.
    form = runtime.intake_form(session, category, place)
    fields = form.schema.get("properties", {})
    unknown = [key for key in (submission.get("extra") or {})
               if key not in fields or key in COMMON_INTAKE_FIELDS]
    errors = [FieldError(f"extra.{key}", "该类别的登记表没有此字段") for key in unknown]
    try:
        form.validate({key: value for key, value in intake.items() if key not in unknown})
    except FormInvalid as exc:
        errors += [FieldError(_path_of(e.field), e.message) for e in exc.errors]
    if errors:
        raise FormInvalid("submission", errors)
    now = runtime.clock.now()
    due_at = submission.get("source_deadline")
    if isinstance(due_at, str):
        due_at = datetime.fromisoformat(due_at)
    claim = ChannelSubmission(channel_id=channel.id, reference=reference, payload_hash=payload_hash,
                              token_id=principal.token.id, created_at=now)
    try:
        session.add(claim)
        session.flush()  # a concurrent first send waits here, then fails on the unique index
    except IntegrityError:
        session.rollback()
        return _replay(session, _submission(session, channel.id, reference), payload_hash, reference)
    case = runtime.start_case(session, category, intake, place, principal.actor, commit=False,
                              source=CaseSource(channel.id, reference, due_at))
    claim.case_id = case.id
    session.commit()
    return Submitted(case, True)


def channel_case(session: Session, principal: ChannelPrincipal, reference: str) -> Case:
    """The case this channel sent under `reference`, if it lies in the token's jurisdiction."""
    case = session.scalar(select(Case).where(Case.channel_id == principal.channel.id,
                                             Case.source_reference == reference))
    if case is None or not principal.covers(case.jurisdiction_code):
        raise NotFound(f"no case with reference {reference!r} from this channel in its jurisdiction")
    return case


def _submission(session: Session, channel_id: int, reference: str) -> ChannelSubmission | None:
    return session.scalar(select(ChannelSubmission).where(ChannelSubmission.channel_id == channel_id,
                                                          ChannelSubmission.reference == reference))


def _replay(session: Session, existing: ChannelSubmission, payload_hash: str, reference: str) -> Submitted:
    case = session.get(Case, existing.case_id)
    if existing.payload_hash != payload_hash:
        raise ReferenceReused(reference, case)
    return Submitted(case, False)


def _path_of(field: str) -> str:
    head, _, rest = field.partition(".")
    path = INTAKE_PATHS.get(head)
    if path is None:
        return f"extra.{field}" if field else ""
    return path + (f".{rest}" if rest else "")


def _checked_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ChannelError("callback_url", "回调地址应为 http:// 或 https:// 开头的完整网址")
    return url[:500]
