"""The board's in-period counts read from the rollup (case_month_stat, case_day_stat) instead of the cases.

At a province's scale the in-period counts are what made the board slow: they read every case
received or closed in the period. The rollup holds them summed per month and per day, county pair
and dimension value, so they become a sum over a few thousand rows: the whole months of a period
from the monthly table; a partial month from its days, or — when the period covers most of it — as
the month less the days it leaves out (`period_parts`). It answers exactly what the direct query
answers only when (a) the places one level below the scope are counties or coarser (the rollup keeps
6-digit county codes), and (b) the actor reads everything in the scope (no department-only liaison
grants, which the rollup cannot see).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .actors import Actor, _under, code_covers
from .case_rollup import ROLLUP_COUNTS, TOTAL
from .cockpit_metrics import Period, child_prefix_length, month_of
from .models import CaseDayStat, CaseMonthStat


def rollup_applies(actor: Actor, scope: str, period: Period) -> bool:
    """True when the rollup gives the same in-period counts as the case table (see module doc)."""
    counties_or_coarser = child_prefix_length(scope) <= 6
    liaison = any(g.role == "liaison" and g.department_id is not None for g in actor.grants)
    reads_scope = any(code_covers(place, scope) for place in actor.jurisdictions())
    return counties_or_coarser and not liaison and reads_scope


@dataclass(frozen=True)
class Part:
    """Rows of one rollup table whose first day lies in [first, last], added (sign 1) or taken away (-1)."""

    table: type
    first: date
    last: date
    sign: int = 1


def period_parts(period: Period, today: date | None = None) -> list[Part]:
    """The period as rollup pieces. A whole month is its monthly row. A partial month is read as its
    days, or as the month less the days outside the period when those hold fewer rows: days after
    `today` hold none, so a range from the 10th to yesterday reads nine days of last month and
    today's, not a month and a half of days."""
    parts: list[Part] = []
    day = period.first
    while day <= period.last:
        month = month_of(day)
        last = min(month.last, period.last)
        inside = (last - day).days + 1
        outside = (min(month.last, today or month.last) - month.first).days + 1 - inside
        if outside == 0:
            parts.append(Part(CaseMonthStat, month.first, month.first))
        elif inside <= max(outside, 0):
            parts.append(Part(CaseDayStat, day, last))
        else:
            parts.append(Part(CaseMonthStat, month.first, month.first))
            if day > month.first:
                parts.append(Part(CaseDayStat, month.first, day - timedelta(days=1), -1))
            if last < month.last:
                parts.append(Part(CaseDayStat, last + timedelta(days=1), month.last, -1))
        day = last + timedelta(days=1)
    return _merged(parts)


def _merged(parts: list[Part]) -> list[Part]:
    """Adjacent whole months as one range (a year is one monthly piece, not twelve)."""
    merged: list[Part] = []
    for part in parts:
        previous = merged[-1] if merged else None
        if previous and previous.table is part.table is CaseMonthStat and previous.sign == part.sign == 1:
            merged[-1] = Part(CaseMonthStat, previous.first, part.last)
        else:
            merged.append(part)
    return merged


def _where(part: Part, scope: str):
    stat = part.table
    start = stat.month if stat is CaseMonthStat else stat.day
    return (start >= part.first, start <= part.last,
            or_(_under(stat.reg_county, scope), _under(stat.handling_county, scope)))


def _sums(stat: type):
    return [func.coalesce(func.sum(getattr(stat, key)), 0).label(key) for key in ROLLUP_COUNTS]


def _add(total: dict[str, int], mapping, sign: int) -> dict[str, int]:
    return {key: total.get(key, 0) + sign * int(mapping[key] or 0) for key in ROLLUP_COUNTS}


def rollup_totals(session: Session, scope: str, period: Period, today: date | None = None) -> dict[str, int]:
    """The in-period counts of `scope` in `period`, in total (`today`: see `period_parts`)."""
    totals = {key: 0 for key in ROLLUP_COUNTS}
    for part in period_parts(period, today):
        row = session.execute(select(*_sums(part.table)).where(*_where(part, scope),
                                                               part.table.dimension == TOTAL)).one()
        totals = _add(totals, row._mapping, part.sign)
    return totals


def rollup_grouped(session: Session, scope: str, period: Period, dimensions: tuple[str, ...],
                   today: date | None = None):
    """The in-period counts in total and by each dimension: (totals, {dimension: {value: counts}}).
    "place" is the registered place one level below `scope`, from the total rows."""
    by_dimension: dict[str, dict[str, dict[str, int]]] = {d: {} for d in dimensions}
    totals = {key: 0 for key in ROLLUP_COUNTS}
    for part in period_parts(period, today):
        stat, where = part.table, _where(part, scope)
        for row in session.execute(select(stat.dimension, stat.value, *_sums(stat)).where(*where)
                                   .group_by(stat.dimension, stat.value)):
            if row.dimension == TOTAL:
                totals = _add(totals, row._mapping, part.sign)
            elif row.dimension in by_dimension:
                values = by_dimension[row.dimension]
                values[row.value] = _add(values.get(row.value, {}), row._mapping, part.sign)
        if "place" in by_dimension:
            place = func.substr(stat.reg_county, 1, child_prefix_length(scope)).label("place")
            for row in session.execute(select(place, *_sums(stat)).where(*where, stat.dimension == TOTAL)
                                       .group_by(place)):
                places = by_dimension["place"]
                places[row.place] = _add(places.get(row.place, {}), row._mapping, part.sign)
    return totals, by_dimension
