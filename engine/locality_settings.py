"""A locality's switches in its variant.toml: general capabilities a county (or township) turns on.

The seed localities differ less in code than in what they switch on: 九原区 sends a daily digest to
each handler, 肃州区 closes simple requests on the spot, 白泥井镇 holds weekly village and monthly
township analysis meetings … Each capability is built once, for everyone, and reads its switch here.
A switch is looked up nearest first along the jurisdiction's chain (engine/variant_lookup.ancestors):
a township inherits its county's setting unless its own variant.toml says otherwise.

Every key is checked when the variants are loaded, with an error naming the file, the line and
what is accepted; an unusable value leaves the whole variant out (as any variant error does).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from .calendar import Duration, DurationError

LEVELS = ("village", "township", "county")
MEETING_PERIODS = ("week", "month")
LETTER_MOMENTS = ("at_warning", "at_overdue", "high_risk")
DOCUMENT_STAGES = ("accepted", "dispatched", "concluded")


class SettingError(ValueError):
    """A value a setting cannot take; the message says what is accepted."""


@dataclass(frozen=True)
class Setting:
    key: str
    meaning: str  # one line for docs and errors
    read: Callable[[Any], Any]  # the checked value; raises SettingError


def _boolean(key: str) -> Callable[[Any], bool]:
    def read(value: Any) -> bool:
        # Only a TOML boolean: "yes" or 1 would silently mean something a county did not decide.
        if not isinstance(value, bool):
            raise SettingError(f"{key} = {value!r}: write true or false")
        return value
    return read


def _duration(key: str) -> Callable[[Any], Duration]:
    def read(value: Any) -> Duration:
        if not isinstance(value, str):
            raise SettingError(f'{key} is written as text, e.g. {key} = "2 工作日"')
        try:
            return Duration.parse(value)
        except DurationError as exc:
            raise SettingError(f"{key}: {exc}") from exc
    return read


def _document_table(key: str, allowed_keys: Sequence[str]) -> Callable[[Any], dict[str, str]]:
    def read(value: Any) -> dict[str, str]:
        from .documents import DOCUMENT_TYPES

        if not isinstance(value, dict):
            raise SettingError(f"[{key}] is a table: {allowed_keys[0]} = \"<document type>\" …")
        result = {}
        for moment, doc_type in value.items():
            if moment not in allowed_keys:
                raise SettingError(f"[{key}] {moment!r}: use {', '.join(allowed_keys)}")
            if doc_type not in DOCUMENT_TYPES:
                raise SettingError(f"[{key}] {moment} = {doc_type!r}: not a document type; use one of "
                                   f"{', '.join(DOCUMENT_TYPES)}")
            result[moment] = doc_type
        return result
    return read


def _meetings(value: Any) -> tuple[dict[str, str], ...]:
    example = '[[analysis_meetings]] with level = "village" and every = "week"'
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise SettingError(f"analysis_meetings is a list of tables: {example}")
    result = []
    for item in value:
        unknown = set(item) - {"level", "every"}
        if unknown:
            raise SettingError(f"analysis_meetings: unknown key {sorted(unknown)[0]!r}; use level and every")
        if item.get("level") not in LEVELS:
            raise SettingError(f"analysis_meetings: level = {item.get('level')!r}; use {', '.join(LEVELS)}")
        if item.get("every") not in MEETING_PERIODS:
            raise SettingError(f"analysis_meetings: every = {item.get('every')!r}; use {', '.join(MEETING_PERIODS)}")
        result.append({"level": item["level"], "every": item["every"]})
    return tuple(result)


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("intake_triage", "一窗分诊: registration starts at the guide desk, which shows the category's "
            "法治化路线图 before the clerk registers", _boolean("intake_triage")),
    Setting("on_the_spot", "当场办结: a simple request may be closed at registration in one step",
            _boolean("on_the_spot")),
    Setting("daily_digest", "日提醒: each handler gets a daily list of their tasks due soon or overdue",
            _boolean("daily_digest")),
    Setting("weekly_supervision", "周督办: the center's directors get a weekly list of overdue and 临期 tasks",
            _boolean("weekly_supervision")),
    Setting("transfer_limit", "limit for the lead to sign off a cross-department transfer",
            _duration("transfer_limit")),
    Setting("closed_within", "reports show the share of cases closed within this time", _duration("closed_within")),
    Setting("follow_up_by_mediator", "谁调解、谁负责: the 回访 goes to the mediator who handled the case",
            _boolean("follow_up_by_mediator")),
    Setting("analysis_meetings", "recurring 研判 meetings (村周研判、镇月研判) gathering the period's open cases",
            _meetings),
    Setting("letters", "letters issued automatically: at_warning, at_overdue, high_risk = document type",
            _document_table("letters", LETTER_MOMENTS)),
    Setting("stage_documents", "documents issued automatically when a case is accepted, dispatched, concluded",
            _document_table("stage_documents", DOCUMENT_STAGES)),
)}


def read_settings(data: Mapping[str, Any], report: Callable[[str, str], None]) -> dict[str, Any]:
    """The locality settings present in a variant.toml's `data`, checked; problems go to `report(key, message)`."""
    result = {}
    for key, setting in SETTINGS.items():
        if key not in data:
            continue
        try:
            result[key] = setting.read(data[key])
        except SettingError as exc:
            report(key, str(exc))
    return result


def locality_setting(variants, chain: Sequence[str], key: str, default: Any = None) -> Any:
    """`key` as the nearest variant on `chain` sets it (`variants`: the registry's VariantSet), else `default`."""
    if key not in SETTINGS:
        raise KeyError(f"no locality setting {key!r}; known: {', '.join(SETTINGS)}")
    for code in chain:
        variant = variants.get(code) if variants is not None else None
        if variant is not None and key in variant.settings:
            return variant.settings[key]
    return default


def places_with(variants, key: str) -> dict[str, Any]:
    """Jurisdiction code -> value, for every variant that sets `key` itself (for periodic jobs)."""
    return {code: v.settings[key] for code, v in sorted(variants.variants.items()) if key in v.settings}
