"""Masking of personal data on screen (个人信息保护法): ID numbers and phone numbers.

Pure functions of a value; which fields hold personal data is decided by `mask_field`.
"""
from __future__ import annotations

from typing import Any


def mask_id(value: Any) -> str:
    """An ID number with only its first 6 (region) and last 4 characters visible.

    110101199003071234 → 110101********1234. Short identifiers (passports, other documents) keep
    only their first and last character, so a masked value never reveals most of the number.
    """
    text = _text(value)
    if len(text) >= 10:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return _keep_ends(text)


def mask_phone(value: Any) -> str:
    """A phone number with its first 3 and last 4 characters visible: 13800138000 → 138****8000."""
    text = _text(value)
    if len(text) >= 7:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    return _keep_ends(text)


def mask_field(name: str, value: Any) -> Any:
    """`value` masked if field `name` holds an ID or phone number, else unchanged.

    Forms name such fields `*_id_number` and `*_phone`; going by the name keeps the rule in one
    place instead of a list that every new form would have to extend.
    """
    if value is None or value == "":
        return value
    lowered = name.lower()
    if "id_number" in lowered or lowered.endswith("id_card"):
        return mask_id(value)
    if "phone" in lowered or "mobile" in lowered:
        return mask_phone(value)
    return value


def mask_data(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` (and of nested dicts) with personal fields masked."""
    masked: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            masked[key] = mask_data(value)
        elif isinstance(value, list):
            masked[key] = [mask_data(v) if isinstance(v, dict) else mask_field(key, v) for v in value]
        else:
            masked[key] = mask_field(key, value)
    return masked


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _keep_ends(text: str) -> str:
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]
