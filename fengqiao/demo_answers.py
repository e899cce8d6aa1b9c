"""Plausible form answers for demo cases of any category, derived from the form's JSON Schema.

The neighbour cases follow hand-written stories; every other category gets a few cases whose tasks
are answered from their schemas, so the demo shows each category's own flow without a story per form.
Choices prefer the outcome that moves a case forward (受理, 调解成功, 满意).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.calendar import SHANGHAI

# Values preferred when a field offers them, in order; anything else takes the first option.
PREFERRED = ("success", "satisfied", "confirmed", "continue", "accept", "agree", "performed", "yes", "黄",
             "ordinary", "village", "phone", "litigation", "mediation")
TRUE_FIELDS = ("accepted", "agrees", "treatment_ended", "disability_rated", "loss_assessed", "harm_known",
               "wants_mediation", "parties_consent", "applied", "filed")


def answers_for(schema: dict[str, Any], defaults: dict[str, Any], now: datetime, topic: str) -> dict[str, Any]:
    """A valid answer to every required field (and the defaults the task already carries)."""
    properties = schema.get("properties", {})
    answer = {key: value for key, value in defaults.items() if key in properties}
    for name in schema.get("required", []):
        if name in answer or name not in properties:
            continue
        value = _value_for(name, properties[name], now, topic)
        if value is not None:
            answer[name] = value
    return answer


def _value_for(name: str, spec: dict[str, Any], now: datetime, topic: str):
    options = [option.get("const") for option in spec.get("oneOf", []) if "const" in option]
    options += spec.get("enum", [])
    if options:
        for preferred in PREFERRED:
            if preferred in options:
                return preferred
        return options[0]
    kind = spec.get("type")
    if kind == "boolean":
        return name in TRUE_FIELDS
    if kind in ("integer", "number"):
        return max(spec.get("minimum", 1), 1)
    if kind == "array":
        return []
    if kind == "string":
        if spec.get("format") == "date":
            return now.astimezone(SHANGHAI).date().isoformat()
        if "pattern" in spec:
            return None  # an identifier we cannot invent sensibly; left for a person
        title = spec.get("title", name)
        text = f"{title}：{topic}，已按规定办理。"
        return text[: spec.get("maxLength", len(text))]
    return None
