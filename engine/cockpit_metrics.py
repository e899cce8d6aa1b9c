"""What every number of the cockpit (驾驶舱) means, as one SQL condition on the case projection.

A count is the number of cases matching its condition; a rate is one count over another. The board
sums the conditions grouped by dimension (engine/cockpit_board.py) and the case list it drills into
filters by the very same condition (`CaseQuery`), so a number and its list cannot disagree.

Periods are in Beijing time, [start, end). "Now" counts (在办, 超期, 临期) ignore the period.
Definitions of the rates the seeds name without defining them (docs/cockpit.md):
- 化解率 / 调解成功率: resolved ÷ cases closed after handling (不予受理 left out).
- 满意度: 满意 + 基本满意 ÷ cases closed in the period with a 回访 answer.
- 分流率: cases received in the period that were dispatched (分流转办 to a department or level) ÷ received.
- 执行到位率: agreements found performed ÷ agreements whose performance was checked.
- 群众吸附率: cases closed without being referred to litigation, arbitration or petition ÷ closed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Callable

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from .actors import Actor, _under, code_covers, jurisdiction_prefix
from .calendar import SHANGHAI
from .models import Case, HumanTask

CLOSED = ("concluded", "terminated")
SATISFIED = ("satisfied", "basically_satisfied")


class QueryError(ValueError):
    """A cockpit filter that cannot be read; the message names the parameter."""


# -- periods -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """A span of Beijing days: `kind` month / week / quarter / year / range, and its label."""

    kind: str
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), SHANGHAI)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), SHANGHAI)

    @property
    def key(self) -> str:
        """The period as URLs carry it: 2026-03, 2026-W10, 2026-Q1, 2026, 2026-03-01..2026-03-15."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.first.year)
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first.year}年{self.first.month}月"
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}年第{week}周（{self.first:%m-%d}至{self.last:%m-%d}）"
        if self.kind == "quarter":
            return f"{self.first.year}年第{(self.first.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.first.year}年"
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"

    def previous(self) -> "Period":
        """The comparable period before: last month, last week, last quarter, last year, or the
        range of the same length just before."""
        if self.kind == "month":
            return month_of(self.first - timedelta(days=1))
        if self.kind == "week":
            return week_of(self.first - timedelta(days=7))
        if self.kind == "quarter":
            return quarter_of(self.first - timedelta(days=1))
        if self.kind == "year":
            return Period("year", date(self.first.year - 1, 1, 1), date(self.first.year - 1, 12, 31))
        length = self.last - self.first + timedelta(days=1)
        return Period("range", self.first - length, self.first - timedelta(days=1))

    def year_before(self) -> "Period":
        """The same period a year earlier (同比)."""
        if self.kind == "week":
            return week_of(self.first - timedelta(weeks=52))
        try:
            first, last = self.first.replace(year=self.first.year - 1), self.last.replace(year=self.last.year - 1)
        except ValueError:  # 29 February
            first, last = self.first - timedelta(days=365), self.last - timedelta(days=365)
        if self.kind == "month":
            return month_of(first)
        return Period(self.kind, first, last)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", first, following - timedelta(days=1))


def week_of(day: date) -> Period:
    first = day - timedelta(days=day.weekday())
    return Period("week", first, first + timedelta(days=6))


def quarter_of(day: date) -> Period:
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    last = month_of(date(first.year, first.month + 2, 1)).last
    return Period("quarter", first, last)


def parse_period(text: str | None, now: datetime) -> Period:
    """A period from its key (see Period.key); empty: this month. QueryError otherwise."""
    text = (text or "").strip()
    today = now.astimezone(SHANGHAI).date()
    if not text:
        return month_of(today)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            return month_of(date(int(m[1]), int(m[2]), 1))
        if m := re.fullmatch(r"(\d{4})-W(\d{2})", text):
            return week_of(date.fromisocalendar(int(m[1]), int(m[2]), 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            return quarter_of(date(int(m[1]), 3 * (int(m[2]) - 1) + 1, 1))
        if m := re.fullmatch(r"(\d{4})", text):
            return Period("year", date(int(m[1]), 1, 1), date(int(m[1]), 12, 31))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < first or (last - first).days > 3660:
                raise ValueError("range")
            return Period("range", first, last)
    except ValueError:
        pass
    raise QueryError(f"period {text!r}: use 2026-03, 2026-W10, 2026-Q1, 2026 or 2026-03-01..2026-03-15")


# -- counts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    key: str
    name: str
    condition: Callable[[Period, datetime], ColumnElement[bool]]
    in_period: bool = True  # False: a count as of now (在办, 超期, 临期)


def _received(p: Period, now: datetime):
    return and_(Case.created_at >= p.start, Case.created_at < p.end)


def _closed(p: Period, now: datetime):
    return and_(Case.status.in_(CLOSED), Case.closed_at >= p.start, Case.closed_at < p.end)


def _open(p: Period, now: datetime):
    return Case.status == "open"


def _past_due(now: datetime):
    """超期: marked by a timer (a source's deadline, a node's overdue timer) or an open task's limit
    has passed — a node without an overdue timer is late all the same. Paused tasks do not count."""
    return or_(Case.is_overdue.is_(True), and_(Case.next_due_at.is_not(None), Case.next_due_at < now))


COUNTS: dict[str, Count] = {c.key: c for c in [
    Count("received", "受理量", _received),
    Count("dispatched", "分流转办", lambda p, now: and_(_received(p, now), or_(Case.department_id.is_not(None),
                                                                             Case.department.is_not(None)))),
    Count("closed", "办结", _closed),
    Count("handled", "调处办结", lambda p, now: and_(_closed(p, now), Case.outcome.in_(("resolved", "unresolved")))),
    Count("resolved", "化解成功", lambda p, now: and_(_closed(p, now), Case.outcome == "resolved")),
    Count("rejected", "不予受理", lambda p, now: and_(_closed(p, now), Case.outcome == "rejected")),
    Count("absorbed", "未转诉讼仲裁信访", lambda p, now: and_(_closed(p, now), Case.referred_out.is_(False))),
    Count("surveyed", "已回访", lambda p, now: and_(_closed(p, now), Case.satisfaction.is_not(None))),
    Count("satisfied", "满意（含基本满意）", lambda p, now: and_(_closed(p, now), Case.satisfaction.in_(SATISFIED))),
    Count("second_supervision", "二次督办", lambda p, now: and_(_closed(p, now), Case.second_supervision_count > 0)),
    Count("performance_checked", "履行已核查", lambda p, now: and_(_closed(p, now), Case.performed.is_not(None))),
    Count("performed", "履行到位", lambda p, now: and_(_closed(p, now), Case.performed.is_(True))),
    Count("open", "在办", _open, in_period=False),
    Count("overdue", "超期", lambda p, now: and_(_open(p, now), _past_due(now)), in_period=False),
    Count("near_due", "临期", lambda p, now: and_(_open(p, now), ~_past_due(now), Case.next_warn_at <= now),
          in_period=False),
]}


@dataclass(frozen=True)
class Rate:
    key: str
    name: str
    numerator: str
    denominator: str


RATES: dict[str, Rate] = {r.key: r for r in [
    Rate("resolution_rate", "化解率", "resolved", "handled"),
    Rate("satisfaction_rate", "满意度", "satisfied", "surveyed"),
    Rate("dispatch_rate", "分流率", "dispatched", "received"),
    Rate("performance_rate", "执行到位率", "performed", "performance_checked"),
    Rate("absorption_rate", "群众吸附率", "absorbed", "closed"),
    Rate("overdue_rate", "超期率", "overdue", "open"),
]}


def rate(counts: dict[str, int], key: str) -> float | None:
    """The rate in [0, 1], or None when its denominator is 0 (shown as —, never as 0 %)."""
    definition = RATES[key]
    denominator = counts.get(definition.denominator, 0)
    return counts.get(definition.numerator, 0) / denominator if denominator else None


# -- the filter a number and its case list share -------------------------------------------------

DIMENSIONS = ("category", "level", "department", "channel", "risk", "place")
# What a case list may filter by: the board's dimensions, and the mediator (调解员) — the user who
# completed a mediator-role task of the case (engine/cockpit_performance.py). The board does not group
# by mediator (a case may have several), so it is a filter only.
FILTERS = DIMENSIONS + ("mediator",)
MEDIATOR_ROLE = "mediator"
NONE_VALUE = "-"  # a dimension's "not set" in URLs (未分流, no colour …)


@dataclass(frozen=True)
class CaseQuery:
    """Which cases a number counts: a count (`metric`), the period, the scope jurisdiction, and
    equality filters on the dimensions ({dimension: value}; NONE_VALUE for "not set")."""

    metric: str
    period: Period
    scope: str
    filters: dict[str, str] = field(default_factory=dict)

    def conditions(self, actor: Actor, now: datetime) -> ColumnElement[bool]:
        """The SQL condition of the cases behind the number, inside what `actor` may read."""
        if self.metric not in COUNTS:
            raise QueryError(f"metric {self.metric!r} is unknown; use one of {', '.join(COUNTS)}")
        parts = [actor.case_filter(), scope_condition(self.scope), COUNTS[self.metric].condition(self.period, now)]
        for dimension, value in self.filters.items():
            parts.append(dimension_condition(dimension, value, self.scope))
        return and_(*parts)

    def with_filter(self, dimension: str, value: str | None) -> "CaseQuery":
        return replace(self, filters={**self.filters, dimension: NONE_VALUE if value is None else str(value)})

    def params(self) -> dict[str, str]:
        """As URL parameters of the case list (and back with `from_params`)."""
        return {"metric": self.metric, "period": self.period.key, "scope": self.scope, **self.filters}

    @classmethod
    def from_params(cls, params, actor: Actor, now: datetime) -> "CaseQuery":
        scope = params.get("scope") or default_scope(actor)
        check_scope(actor, scope)
        filters = {d: params[d] for d in FILTERS if params.get(d)}
        return cls(params.get("metric") or "received", parse_period(params.get("period"), now), scope, filters)


def default_scope(actor: Actor) -> str:
    """The widest jurisdiction the actor reads (a province manager: the province)."""
    places = actor.jurisdictions()
    return places[0] if places else ""


def check_scope(actor: Actor, scope: str) -> None:
    if not scope or not any(code_covers(place, scope) for place in actor.jurisdictions()):
        raise QueryError(f"scope {scope!r} is outside the jurisdictions you may read")


def scope_condition(scope: str) -> ColumnElement[bool]:
    """Cases registered or handled in `scope` and below (as Actor.case_filter reads them)."""
    return or_(_under(Case.jurisdiction_code, scope), _under(Case.handling_jurisdiction_code, scope))


def child_prefix_length(scope: str) -> int:
    """How many digits name a jurisdiction one level below `scope` (省→市 4, 市→县 6, 县→乡 9, 乡→村 12)."""
    prefix = len(jurisdiction_prefix(scope))
    return {2: 4, 4: 6, 6: 9, 9: 12}.get(prefix, prefix + 3)


def place_expression(scope: str):
    """The registered place one level below `scope`, as its code prefix."""
    return func.substr(Case.jurisdiction_code, 1, child_prefix_length(scope))


def dimension_column(dimension: str, scope: str):
    return {"category": Case.category_code, "level": Case.handling_level, "department": Case.department_id,
            "channel": Case.intake_channel, "risk": Case.risk_color,
            "place": place_expression(scope)}[dimension]


def dimension_condition(dimension: str, value: str, scope: str) -> ColumnElement[bool]:
    if dimension == "mediator":
        return mediator_condition(value)
    if dimension not in DIMENSIONS:
        raise QueryError(f"filter {dimension!r} is unknown; use {', '.join(FILTERS)}")
    column = dimension_column(dimension, scope)
    if value == NONE_VALUE:
        return column.is_(None)
    if dimension == "department":
        if not value.isdigit():
            raise QueryError(f"department {value!r} is not a department id")
        return column == int(value)
    return column == value


def mediated_by(username: str | None) -> ColumnElement[bool]:
    """The case has a mediator-role task completed by `username` (None: by anyone)."""
    task = select(HumanTask.id).where(HumanTask.case_id == Case.id, HumanTask.role == MEDIATOR_ROLE,
                                      HumanTask.state == "completed")
    return exists(task if username is None else task.where(HumanTask.completed_by == username))


def mediator_condition(value: str) -> ColumnElement[bool]:
    """The `mediator` filter: cases a user mediated (NONE_VALUE: cases nobody has mediated yet)."""
    return ~mediated_by(None) if value == NONE_VALUE else mediated_by(value)


def any_count(period: Period, now: datetime) -> ColumnElement[bool]:
    """True for a case at least one count may include: what the board has to read at all."""
    return or_(_received(period, now), _closed(period, now), _open(period, now))

