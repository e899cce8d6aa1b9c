"""Trends (趋势) of the cockpit: 受理量, 办结 and 化解成功 per month for the twelve months up to a period.

Each point is the very count of engine/cockpit_metrics.py for that month (COUNTS[key].condition over
the month's Period), summed in one aggregate query over the case projection: one conditional sum per
series and month. Bucketing by the same conditions — rather than by a database's date functions —
keeps months in Beijing time on every database and makes each point equal the case list it links to
(`point.query`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case as when, func, or_, select
from sqlalchemy.orm import Session

from .actors import Actor
from .cockpit_metrics import COUNTS, CaseQuery, Period, month_of, scope_condition
from .models import Case

SERIES = ("received", "closed", "resolved")  # 受理量, 办结, 化解成功
MONTHS = 12


@dataclass(frozen=True)
class Trend:
    """Monthly counts: `months` oldest first, `series[key][i]` the count of `key` in `months[i]`."""

    scope: str
    months: list[Period]
    series: dict[str, list[int]]

    def query(self, key: str, index: int) -> CaseQuery:
        """The case list behind one point."""
        return CaseQuery(key, self.months[index], self.scope)


def trailing_months(period: Period, count: int = MONTHS) -> list[Period]:
    """The `count` calendar months ending with the month holding the period's last day, oldest first."""
    months = [month_of(period.last)]
    while len(months) < count:
        months.insert(0, months[0].previous())
    return months


def monthly_trend(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                  series: tuple[str, ...] = SERIES) -> Trend:
    """The trend of `series` (in-period counts of COUNTS) in `scope` for the twelve months up to `period`;
    `scope` is checked against what `actor` reads by the caller, as for the board."""
    months = trailing_months(period)
    start, end = months[0].start, months[-1].end
    sums = [func.sum(when((COUNTS[key].condition(month, now), 1), else_=0)).label(f"{key}_{i}")
            for key in series for i, month in enumerate(months)]
    # Only cases received or closed inside the window can count in any month of it.
    window = or_(Case.created_at.between(start, end), Case.closed_at.between(start, end))
    row = session.execute(select(*sums).where(actor.case_filter(), scope_condition(scope), window)).one()
    values = row._mapping
    return Trend(scope, months, {key: [int(values[f"{key}_{i}"] or 0) for i in range(len(months))]
                                 for key in series})
