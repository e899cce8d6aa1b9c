"""The colour classes of the 流程热力图: each node's value (its P90 hours or its waiting count) against
the largest value on the diagram, in four equal bands above zero. Relative, not absolute: a category
measured in days and one measured in hours both use the whole scale, and the legend states the bands.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# What the colour may follow (?heat=): label, unit.
MEASURES = {"p90": ("P90 办理时长", "小时"), "waiting": ("等待件数", "件")}
DEFAULT_MEASURE = "p90"
LEVELS = 4
LEVEL_NAMES = {0: "无数据", 1: "较低", 2: "中等", 3: "较高", 4: "最高"}


@dataclass(frozen=True)
class Band:
    """One class of the legend: its level (0 = nothing measured) and the values it covers."""

    level: int
    name: str
    text: str


def level_of(value: float | None, top: float) -> int:
    """0 for no value or zero; else 1..LEVELS by the value's share of `top` (the largest value)."""
    if not value or top <= 0:
        return 0
    return max(1, min(LEVELS, math.ceil(value / top * LEVELS)))


def legend(measure: str, top: float) -> list[Band]:
    """The bands as the page explains them, e.g. 较高: 24.0–36.0 小时, or 3–4 件 (counts: whole numbers,
    a band no count falls in left out)."""
    unit = MEASURES[measure][1]
    bands = [Band(0, LEVEL_NAMES[0], "无在办或周期内无办结" if measure == "p90" else "无等待")]
    for level in range(1, LEVELS + 1) if top > 0 else ():
        low, high = top * (level - 1) / LEVELS, top * level / LEVELS
        if measure == "p90":
            bands.append(Band(level, LEVEL_NAMES[level], f"{low:.1f}–{high:.1f} {unit}"))
            continue
        first, last = math.floor(low) + 1, math.floor(high)  # the counts with level_of(count) == level
        if first <= last:
            text = f"{first} {unit}" if first == last else f"{first}–{last} {unit}"
            bands.append(Band(level, LEVEL_NAMES[level], text))
    return bands
