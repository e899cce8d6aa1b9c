"""The share of cases closed within a time limit (九原区: 10个工作日内办结率, target 85%).

A locality sets `closed_within = "10 工作日"` in its variant.toml; the 月报告 and 周梳理 of a scope
whose chain sets it (nearest first) then carry one more line. The figure is

    cases closed in the period whose time from registration (Case.created_at) to closing
    (Case.closed_at) is within the limit, counted on the scope's working-day calendar
    ÷ cases closed in the period

"closed in the period" is exactly the board's 办结 count (CaseQuery "closed": concluded or
terminated, by closing time), so the two figures never disagree. The limit is counted as every
limit is (engine/calendar.py): the registration day is not counted, a 工作日 limit ends at 23:59:59
Beijing of its last working day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .calendar import Duration, Unit, WorkingCalendar
from .cockpit_metrics import CaseQuery, Period
from .locality_settings import locality_setting
from .models import Case
from .variant_lookup import ancestors

KEY = "closed_within"


@dataclass(frozen=True)
class ClosedWithin:
    """The limit a scope's locality sets and the calendar it is counted on."""

    limit: Duration
    calendar: WorkingCalendar

    @property
    def label(self) -> str:
        """The report line's name, from the setting: "10个工作日内办结率", "30日内办结率"."""
        amount, unit = self.limit.amount, self.limit.unit
        return f"{amount}个工作日内办结率" if unit is Unit.WORKDAY else f"{amount}{unit.value}内办结率"

    @property
    def definition(self) -> str:
        return (f"统计期内办结的案件中，自登记至办结在{self.limit.amount}{'个' if self.limit.unit is Unit.WORKDAY else ''}"
                f"{self.limit.unit.value}以内的（按工作日历计算，登记当日不计）÷ 统计期内办结的案件数")


def closed_within_rule(session: Session, variants, calendar_loader: Callable[[Session, str], WorkingCalendar],
                       scope: str) -> ClosedWithin | None:
    """The rule of `scope` if its locality (or one above it) sets `closed_within`, else None."""
    limit = locality_setting(variants, ancestors(session, scope), KEY)
    if limit is None:
        return None
    return ClosedWithin(limit, calendar_loader(session, scope))


def closed_within_share(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                        rule: ClosedWithin) -> float | None:
    """The share (0–1) of the period's closed cases closed within the rule's limit; None if none closed."""
    rows = session.execute(select(Case.created_at, Case.closed_at)
                           .where(CaseQuery("closed", period, scope).conditions(actor, now))).all()
    closed = [(created, closed_at) for created, closed_at in rows if closed_at is not None]
    if not closed:
        return None
    within = sum(1 for created, closed_at in closed if closed_at <= rule.calendar.add(created, rule.limit).due)
    return within / len(closed)
