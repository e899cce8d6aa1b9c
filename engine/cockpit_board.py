"""The live board (驾驶舱 总览): every count of engine/cockpit_metrics.py for a scope and period, in
total and by category, handling level, department, channel, risk colour and the places one level
below — from one grouped query over the case projection, then rolled up here.

Reading the cases once grouped by all dimensions together and summing in Python keeps the board to
a single scan of the cases a period touches (received or closed in it, or open now), which is what
keeps it fast at a county's scale. For a city or province, the in-period counts come from the
monthly and daily rollup instead (engine/cockpit_rollup.py) and only the open cases are scanned, for
the "now" counts (bench/bench_cockpit.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case as when, func, or_, select, tuple_
from sqlalchemy.orm import Session

from .actors import Actor
from .calendar import SHANGHAI
from .cockpit_metrics import (COUNTS, DIMENSIONS, NONE_VALUE, CaseQuery, Period, dimension_column,
                              scope_condition)
from .cockpit_rollup import rollup_applies, rollup_grouped, rollup_totals
from .models import Case, Department, Jurisdiction


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()

CHANNEL_NAMES = {"walk_in": "群众来访", "hotline_12345": "12345热线", "police_110": "110非警务警情", "court": "法院诉前",
                 "petition": "信访", "grid": "网格员上报", "higher_level": "上级交办", "lower_level": "下级上报",
                 "department": "职能部门移交", "online": "网上申请"}
LEVEL_NAMES = {"village": "村（社区）", "township": "乡镇（街道）", "county": "县（区）"}


@dataclass
class Group:
    """One value of a dimension and its counts."""

    value: str  # as the case list filter takes it; NONE_VALUE for "not set"
    label: str
    counts: dict[str, int]


@dataclass
class Board:
    scope: str
    period: Period
    now: datetime
    totals: dict[str, int]
    previous: dict[str, int]  # the in-period counts of period.previous()
    year_before: dict[str, int]  # … and of the same period a year earlier (同比)
    groups: dict[str, list[Group]] = field(default_factory=dict)

    def query(self, metric: str, **filters: str) -> CaseQuery:
        """The case list behind a number: `metric` under `filters` ({dimension: value})."""
        return CaseQuery(metric, self.period, self.scope, dict(filters))


def board(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
          category_names: dict[str, str] | None = None, *, rollup: bool = True) -> Board:
    """The board of `scope` (checked against what `actor` reads by the caller) for `period`.

    The in-period counts come from the rollup where it answers exactly (engine/cockpit_rollup.py)
    and `rollup` allows it; `rollup=False` reads the cases directly (the two are compared in tests)."""
    if rollup and rollup_applies(actor, scope, period):
        in_period = rollup_grouped(session, scope, period, DIMENSIONS, beijing_day(now))
    else:
        keys = tuple(key for key, c in COUNTS.items() if c.in_period)
        in_period = _grouped_counts(session, actor, scope, period, now, keys, in_period_window(period))
    totals, by_dimension = _with_open_counts(session, actor, scope, period, now, *in_period)
    result = Board(scope, period, now, totals,
                   period_totals(session, actor, scope, period.previous(), now, rollup=rollup),
                   period_totals(session, actor, scope, period.year_before(), now, rollup=rollup))
    labels = _labels(session, scope, by_dimension, category_names or {})
    for dimension in DIMENSIONS:
        groups = [Group(value, labels[dimension].get(value, value), counts)
                  for value, counts in by_dimension[dimension].items() if any(counts.values())]
        result.groups[dimension] = sorted(groups, key=lambda g: (-g.counts["received"], -g.counts["open"], g.label))
    return result


def in_period_window(period: Period):
    """Every in-period count is of cases received or closed in the period: read only those."""
    return or_(and_(Case.created_at >= period.start, Case.created_at < period.end),
               and_(Case.closed_at >= period.start, Case.closed_at < period.end))


def _with_open_counts(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                      totals: dict[str, int], by_dimension: dict[str, dict[str, dict[str, int]]]):
    """The in-period counts (from the rollup or the period's cases) completed with the "now" counts,
    read from the open cases alone: two small scans instead of one over their union."""
    now_keys = tuple(key for key, c in COUNTS.items() if not c.in_period)
    open_totals, open_by_dimension = _grouped_counts(session, actor, scope, period, now, now_keys,
                                                     Case.status == "open")
    zero = {key: 0 for key in COUNTS}
    totals = {**zero, **totals, **open_totals}
    merged = {}
    for dimension in DIMENSIONS:
        values = set(by_dimension[dimension]) | set(open_by_dimension[dimension])
        merged[dimension] = {value: {**zero, **by_dimension[dimension].get(value, {}),
                                     **open_by_dimension[dimension].get(value, {})} for value in values}
    return totals, merged


def _grouped_counts(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                    keys: tuple[str, ...], window):
    """The counts `keys` in total and by each dimension over the cases of `window`:
    (totals, {dimension: {value: counts}}).

    PostgreSQL answers all of it in one scan with GROUPING SETS (one set per dimension and the
    total, a few hundred rows); SQLite, which has no grouping sets and holds a single center's
    cases, asks once per dimension."""
    columns = {d: dimension_column(d, scope).label(d) for d in DIMENSIONS}
    sums = [func.sum(when((COUNTS[key].condition(period, now), 1), else_=0)).label(key) for key in keys]
    where = (actor.case_filter(), scope_condition(scope), window)
    by_dimension: dict[str, dict[str, dict[str, int]]] = {d: {} for d in DIMENSIONS}
    totals = {key: 0 for key in keys}

    def counts_of(mapping) -> dict[str, int]:
        return {key: int(mapping[key] or 0) for key in keys}

    def value_of(value) -> str:
        return NONE_VALUE if value is None else str(value)

    if session.get_bind().dialect.name == "postgresql":
        flags = [func.grouping(columns[d]).label(f"grouping_{d}") for d in DIMENSIONS]
        sets = func.grouping_sets(*[tuple_(columns[d]) for d in DIMENSIONS], tuple_())
        for row in session.execute(select(*columns.values(), *flags, *sums).where(*where).group_by(sets)):
            mapping = row._mapping
            grouped = [d for d in DIMENSIONS if mapping[f"grouping_{d}"] == 0]
            if grouped:
                by_dimension[grouped[0]][value_of(mapping[grouped[0]])] = counts_of(mapping)
            else:
                totals = counts_of(mapping)
        return totals, by_dimension
    totals = counts_of(session.execute(select(*sums).where(*where)).one()._mapping)
    for dimension, column in columns.items():
        for row in session.execute(select(column, *sums).where(*where).group_by(column)):
            by_dimension[dimension][value_of(row._mapping[dimension])] = counts_of(row._mapping)
    return totals, by_dimension


def period_totals(session: Session, actor: Actor, scope: str, period: Period, now: datetime, *,
                  rollup: bool = True) -> dict[str, int]:
    """The in-period counts of `period` in total (to compare a period with another)."""
    if rollup and rollup_applies(actor, scope, period):
        return rollup_totals(session, scope, period, beijing_day(now))
    keys = [key for key, c in COUNTS.items() if c.in_period]
    sums = [func.sum(when((COUNTS[key].condition(period, now), 1), else_=0)).label(key) for key in keys]
    row = session.execute(select(*sums).where(actor.case_filter(), scope_condition(scope),
                                              in_period_window(period))).one()
    return {key: int(row._mapping[key] or 0) for key in keys}


def _labels(session: Session, scope: str, by_dimension, category_names: dict[str, str]) -> dict[str, dict[str, str]]:
    departments = {str(d.id): d.name for d in session.scalars(select(Department).where(
        Department.id.in_([int(v) for v in by_dimension["department"] if v.isdigit()])))} \
        if by_dimension["department"] else {}
    place_codes = {value: _place_code(value) for value in by_dimension["place"] if value != NONE_VALUE}
    places = {row.code: row.name for row in session.scalars(select(Jurisdiction).where(
        Jurisdiction.code.in_(list(place_codes.values()))))} if place_codes else {}
    return {
        "category": {**category_names, NONE_VALUE: "未分类"},
        "level": {**LEVEL_NAMES, NONE_VALUE: "未定层级"},
        "department": {**departments, NONE_VALUE: "未分流"},
        "channel": {**CHANNEL_NAMES, NONE_VALUE: "未注明"},
        "risk": {NONE_VALUE: "未研判"},
        "place": {prefix: places.get(code, code) for prefix, code in place_codes.items()},
    }


def _place_code(prefix: str) -> str:
    """A jurisdiction's code from the prefix its cases share (1502 -> 150200, 15 -> 150000)."""
    return prefix.ljust(6, "0") if len(prefix) < 6 else prefix
