"""The cells of the cockpit: each number as Chinese readers expect it, with the case list behind it.

Every number on the board is a `Cell`: its text, the URL of the case list holding exactly the cases
it counts, and that count (a rate links to its numerator's list, so `count` is the numerator).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from flask import url_for

from engine.cockpit_metrics import COUNTS, RATES, CaseQuery, rate

NO_VALUE = "—"  # a rate over nothing, or a comparison that does not apply


@dataclass(frozen=True)
class Cell:
    text: str
    href: str
    count: int  # cases in the linked list
    kind: str  # "count" or "rate"
    title: str = ""


@dataclass(frozen=True)
class Change:
    """How a number moved against a comparison period; `direction` is up / down / flat / none."""

    text: str
    direction: str


def format_count(number: int) -> str:
    """12345 -> 12,345: exact, grouped by thousands as statistical tables print it."""
    return f"{number:,}"


def format_rate(value: float | None) -> str:
    """0.8534 -> 85.3%; None (nothing to divide by) -> —, never 0 %."""
    return NO_VALUE if value is None else f"{value * 100:.1f}%"


def case_list_url(query: CaseQuery) -> str:
    return url_for("cases.index", **query.params())


def count_cell(query: CaseQuery, counts: dict[str, int]) -> Cell:
    """The count `query.metric` out of `counts`, linked to its list."""
    number = counts.get(query.metric, 0)
    return Cell(format_count(number), case_list_url(query), number, "count", COUNTS[query.metric].name)


def rate_cell(key: str, query: CaseQuery, counts: dict[str, int]) -> Cell:
    """The rate `key` out of `counts`, linked to its numerator's list under `query`'s period and filters."""
    definition = RATES[key]
    numerator, denominator = counts.get(definition.numerator, 0), counts.get(definition.denominator, 0)
    title = (f"{COUNTS[definition.numerator].name} {format_count(numerator)} ÷ "
             f"{COUNTS[definition.denominator].name} {format_count(denominator)}")
    return Cell(format_rate(rate(counts, key)), case_list_url(replace(query, metric=definition.numerator)),
                numerator, "rate", title)


def count_change(current: int, before: int) -> Change:
    """The difference and, where the earlier count is not 0, the percentage: +3（+25.0%）."""
    difference = current - before
    if difference == 0:
        return Change("持平", "flat")
    text = f"{difference:+,}"
    if before:
        text += f"（{difference / before * 100:+.1f}%）"
    return Change(text, "up" if difference > 0 else "down")


def rate_change(current: float | None, before: float | None) -> Change:
    """The difference of two rates in percentage points (个百分点); — when either is undefined."""
    if current is None or before is None:
        return Change(NO_VALUE, "none")
    points = (current - before) * 100
    if abs(points) < 0.05:
        return Change("持平", "flat")
    return Change(f"{points:+.1f}个百分点", "up" if points > 0 else "down")
