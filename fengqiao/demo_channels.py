"""The demo's intake channels: 12345, 110, the court and the petition office send their cases in
through the channel API's engine path (engine/channels.py), each with a token per county.

Demo tokens are fixed strings so `fengqiao demo` can print one to try the API with; real tokens are
random and shown once. Only the hash is stored either way.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import channels
from engine.channels import INTAKE_PATHS, ChannelPrincipal
from engine.models import ChannelToken

# kind → (channel code, name, reference prefix)
DEMO_CHANNELS = {
    "hotline_12345": ("hotline-12345", "12345政务服务便民热线", "GD"),
    "police_110": ("police-110", "110报警服务台（非警务警情）", "JQ"),
    "court": ("court", "人民法院诉调对接平台", None),  # the court's own 案号 is the reference
    "petition": ("petition", "信访局访调对接", None),  # the 信访件号
}
OWN_REFERENCE_FIELDS = {"court": "court_case_number", "petition": "petition_number"}


def demo_token(channel_code: str, county: str) -> str:
    return f"{channels.TOKEN_PREFIX}demo_{channel_code}_{county}"


class DemoChannels:
    """Creates the demo channels with a token per county, and sends a run's intake through one."""

    def __init__(self, session: Session, counties: list[str], now: datetime):
        self.session = session
        self.sequence = 0
        for kind, (code, name, _prefix) in DEMO_CHANNELS.items():
            channel = channels.create_channel(session, code, name, kind, "demo", now)
            for county in counties:
                plain = demo_token(code, county)
                session.add(ChannelToken(channel_id=channel.id, jurisdiction_code=county,
                                         token_hash=channels.hash_token(plain), prefix=plain[:10],
                                         note="演示令牌", created_by="demo", created_at=now))
        session.commit()

    def sends(self, kind: str) -> bool:
        return kind in DEMO_CHANNELS

    def submit(self, runtime, kind: str, county: str, category: str, place: str, intake: dict[str, Any]):
        """Send `intake` in as channel `kind` would; returns the case."""
        code, _name, prefix = DEMO_CHANNELS[kind]
        principal = channels.authenticate(self.session, demo_token(code, county), runtime.clock.now())
        assert isinstance(principal, ChannelPrincipal), f"demo token of {code} for {county} is missing"
        self.sequence += 1
        now = runtime.clock.now()
        reference = intake.get(OWN_REFERENCE_FIELDS.get(kind, "")) or f"{prefix}{now:%Y%m%d}{self.sequence:05d}"
        return channels.submit(self.session, runtime, principal, submission_from(intake, category, place, reference)).case


def submission_from(intake: dict[str, Any], category: str, place: str, reference: str) -> dict[str, Any]:
    """The API submission carrying an intake form's data (the inverse of channels.intake_of)."""
    submission: dict[str, Any] = {"reference": reference, "category": category, "jurisdiction": place}
    for form_field, path in INTAKE_PATHS.items():
        if form_field not in intake:
            continue
        head, _, tail = path.partition(".")
        if tail:
            submission.setdefault(head, {})[tail] = intake[form_field]
        else:
            submission[head] = intake[form_field]
    extra = {k: v for k, v in intake.items() if k not in INTAKE_PATHS and k != "channel"}
    if extra:
        submission["extra"] = extra
    return submission
