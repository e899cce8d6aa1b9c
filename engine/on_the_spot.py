"""当场办结 (closing a simple request at registration) is allowed only where the locality switches it on.

The mechanism itself is a county variant's: its registration form offers `on_the_spot` with the answer
given (`on_the_spot_answer`), and its process takes a gateway from registration straight to a
concluded end (processes/variants/620902/neighbour). This check makes the `on_the_spot` setting
(engine/locality_settings.py) the authority: a registration that ticks 当场办结 at a place whose chain
does not switch it on is refused before anything is stored, whatever a form happens to offer.
"""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.orm import Session

from .errors import FieldError, FormInvalid
from .locality_settings import locality_setting
from .variant_lookup import ancestors

SETTING = "on_the_spot"
FIELD = "on_the_spot"


def allowed(session: Session, variants, jurisdiction_code: str) -> bool:
    """Whether cases registered at `jurisdiction_code` may be closed on the spot (nearest variant decides)."""
    return bool(locality_setting(variants, ancestors(session, jurisdiction_code), SETTING, False))


def check_intake(session: Session, variants, jurisdiction_code: str, form_name: str,
                 intake: Mapping[str, Any]) -> None:
    """Raise FormInvalid on the `on_the_spot` field when it is ticked where the switch is off."""
    if intake.get(FIELD) is True and not allowed(session, variants, jurisdiction_code):
        raise FormInvalid(form_name, [FieldError(FIELD, f"{jurisdiction_code} 未开通当场办结（on_the_spot），请按一般程序受理")])
