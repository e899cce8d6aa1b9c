"""The risk colours (风险等级) a jurisdiction grades cases in, for the cockpit's risk board.

A county variant may set its own scheme (东河区: the five colours 红橙黄蓝绿); otherwise the nearest
ancestor's applies (包头市: four colours), and without any variant the colours the base 研判 form
(forms/assess.json) offers.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from .variant_lookup import ancestors
from .variants import RISK_FIELD

BASE_FORM = "assess"


def risk_scheme(session: Session, registry, scope: str) -> tuple[str, ...]:
    """The colours, most serious first, that cases in `scope` are graded in."""
    for code in ancestors(session, scope):
        variant = registry.variants.get(code) if code else None
        if variant is not None and variant.risk_colours is not None:
            return variant.risk_colours
    return base_scheme(registry)


def base_scheme(registry) -> tuple[str, ...]:
    """The choices of `risk_color` in the base 研判 form; empty if the form offers none."""
    if BASE_FORM not in registry.forms:
        return ()
    field = (registry.forms.get(BASE_FORM).schema.get("properties") or {}).get(RISK_FIELD) or {}
    return tuple(option["const"] for option in field.get("oneOf") or [] if isinstance(option, dict)
                 and isinstance(option.get("const"), str))
