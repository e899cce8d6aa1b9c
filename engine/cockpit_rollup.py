"""The board's in-period counts read from the monthly rollup (case_month_stat) instead of the cases.

At a province's scale the in-period counts are what made the board slow: they read every case
received or closed in the period. The rollup holds them summed per month, county pair and
dimension value, so they become a sum over a few thousand rows. It answers exactly what the direct
query answers only when (a) the period is made of whole Beijing months, (b) the places one level
below the scope are counties or coarser (the rollup keeps 6-digit county codes), and (c) the actor
reads everything in the scope (no department-only liaison grants, which the rollup cannot see).
"""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .actors import Actor, _under, code_covers
from .case_rollup import ROLLUP_COUNTS, TOTAL
from .cockpit_metrics import Period, child_prefix_length, month_of
from .models import CaseMonthStat


def rollup_applies(actor: Actor, scope: str, period: Period) -> bool:
    """True when the rollup gives the same in-period counts as the case table (see module doc)."""
    whole_months = period.first.day == 1 and period.last == month_of(period.last).last
    counties_or_coarser = child_prefix_length(scope) <= 6
    liaison = any(g.role == "liaison" and g.department_id is not None for g in actor.grants)
    reads_scope = any(code_covers(place, scope) for place in actor.jurisdictions())
    return whole_months and counties_or_coarser and not liaison and reads_scope


def _where(scope: str, period: Period):
    stat = CaseMonthStat
    return (stat.month >= period.first, stat.month <= period.last,
            or_(_under(stat.reg_county, scope), _under(stat.handling_county, scope)))


def _sums():
    return [func.coalesce(func.sum(getattr(CaseMonthStat, key)), 0).label(key) for key in ROLLUP_COUNTS]


def rollup_totals(session: Session, scope: str, period: Period) -> dict[str, int]:
    """The in-period counts of `scope` in `period`, in total."""
    row = session.execute(select(*_sums()).where(*_where(scope, period),
                                                 CaseMonthStat.dimension == TOTAL)).one()
    return {key: int(row._mapping[key]) for key in ROLLUP_COUNTS}


def rollup_grouped(session: Session, scope: str, period: Period, dimensions: tuple[str, ...]):
    """The in-period counts in total and by each dimension: (totals, {dimension: {value: counts}}).
    "place" is the registered place one level below `scope`, from the total rows."""
    stat = CaseMonthStat
    by_dimension: dict[str, dict[str, dict[str, int]]] = {d: {} for d in dimensions}

    def counts_of(mapping) -> dict[str, int]:
        return {key: int(mapping[key] or 0) for key in ROLLUP_COUNTS}

    rows = session.execute(select(stat.dimension, stat.value, *_sums()).where(*_where(scope, period))
                           .group_by(stat.dimension, stat.value))
    totals = {key: 0 for key in ROLLUP_COUNTS}
    for row in rows:
        if row.dimension == TOTAL:
            totals = counts_of(row._mapping)
        elif row.dimension in by_dimension:
            by_dimension[row.dimension][row.value] = counts_of(row._mapping)
    if "place" in by_dimension:
        place = func.substr(stat.reg_county, 1, child_prefix_length(scope)).label("place")
        for row in session.execute(select(place, *_sums()).where(*_where(scope, period), stat.dimension == TOTAL)
                                   .group_by(place)):
            by_dimension["place"][row.place] = counts_of(row._mapping)
    return totals, by_dimension
