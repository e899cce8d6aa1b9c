"""Masking of personal data (个人信息保护法): ID numbers and phone numbers.

Pure functions of a value; which fields hold personal data is decided by `mask_field`. The case pages
and the issued documents (文书) both mask with these, so there is one rule.
"""
from __future__ import annotations

import re
from typing import Any

# An 18-character resident ID number or an 11-digit mobile number standing alone inside free text.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


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


def mask_text(text: str) -> str:
    """Free text with any ID number or mobile number inside it masked.

    Clerks sometimes type a number into 简述 or 调解记录; a document must not print it in full.
    """
    text = _ID_IN_TEXT.sub(lambda m: mask_id(m.group()), text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _keep_ends(text: str) -> str:
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]
