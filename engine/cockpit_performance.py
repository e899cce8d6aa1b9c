"""考核: how each department and each mediator (调解员) performed in a period, within a scope.

Case numbers are the cockpit's own counts (engine/cockpit_metrics.py COUNTS) grouped by who owns the
case, so each comes with the CaseQuery its case list uses and the two cannot disagree:
- a department owns the cases dispatched to it (Case.department_id); 受理量 is `dispatched`;
- a mediator owns the cases in which they completed a mediator-role task (the `mediator` filter); a
  case mediated by two people (a second round after 督办) counts for both.
化解成功 / 化解成功率 (resolved ÷ handled), 满意度 (satisfied ÷ surveyed) and 二次督办 count their
cases closed in the period.

Task numbers read the human-task projection:
- a department's tasks are the mediator and liaison tasks of its cases (a liaison task counts for the
  department it was offered to): the handling work, not the center's 受理/研判/分流 before dispatch;
- a mediator's tasks are the mediator-role tasks they completed, or hold claimed while open;
- 受理量 of a mediator is the number of their tasks completed in the period (a task count: no case
  list drills into it);
- 超期率: of the tasks active in the period (created before its end, and open now or completed at or
  after its start; cancelled ones left out), those that went overdue (overdue_at set);
- 办理时长中位数: the median of completed_at − created_at, in hours, of the tasks completed in the
  period — percentile_cont(0.5) on PostgreSQL, the same interpolated median in Python elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import and_, case as when, distinct, extract, func, or_, select
from sqlalchemy.orm import Session

from .actors import Actor
from .cockpit_metrics import COUNTS, MEDIATOR_ROLE, CaseQuery, Period, QueryError, any_count, scope_condition
from .models import Case, Department, HumanTask, User

CASE_COUNTS = ("dispatched", "handled", "resolved", "surveyed", "satisfied", "second_supervision")
HANDLING_ROLES = (MEDIATOR_ROLE, "liaison")
# Columns a table may be sorted by (?sort=…; a leading "-" for descending) and their names.
COLUMNS = {"received": "受理量", "resolved": "化解成功", "resolution_rate": "化解成功率", "overdue_rate": "超期率",
           "median_hours": "办理时长中位数（小时）", "satisfaction_rate": "满意度", "second_supervision": "二次督办",
           "label": "名称"}
DEFAULT_SORT = "-received"


@dataclass
class PerformanceRow:
    """One department or mediator. `key` is the department id or the username."""

    key: str
    label: str
    received: int = 0  # 受理量: dispatched cases (department) / completed tasks (mediator)
    handled: int = 0
    resolved: int = 0
    surveyed: int = 0
    satisfied: int = 0
    second_supervision: int = 0
    tasks: int = 0  # active in the period
    overdue_tasks: int = 0
    median_hours: float | None = None
    queries: dict[str, CaseQuery] = field(default_factory=dict)  # column -> the case list behind it

    @property
    def resolution_rate(self) -> float | None:
        return self.resolved / self.handled if self.handled else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.surveyed if self.surveyed else None

    @property
    def overdue_rate(self) -> float | None:
        return self.overdue_tasks / self.tasks if self.tasks else None


@dataclass
class Performance:
    scope: str
    period: Period
    departments: list[PerformanceRow]
    mediators: list[PerformanceRow]


def performance(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                sort: str = DEFAULT_SORT) -> Performance:
    """Departments and mediators of `scope` (checked against `actor` by the caller) in `period`,
    counting only cases `actor` may read; rows sorted by `sort` (see COLUMNS; QueryError if unknown)."""
    departments = _department_rows(session, actor, scope, period, now)
    mediators = _mediator_rows(session, actor, scope, period, now)
    return Performance(scope, period, sort_rows(departments, sort), sort_rows(mediators, sort))


def sort_rows(rows: list[PerformanceRow], sort: str) -> list[PerformanceRow]:
    """Rows by a column of COLUMNS ("-" first: descending); rows without a value (a rate of —) last."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    if column not in COLUMNS:
        raise QueryError(f"sort {sort!r} is unknown; use one of {', '.join(COLUMNS)} (prefix - for descending)")
    present = [row for row in rows if getattr(row, column) is not None]
    missing = [row for row in rows if getattr(row, column) is None]
    by_label = sorted(present, key=lambda row: row.label)  # ties read in name order
    ordered = sorted(by_label, key=lambda row: getattr(row, column), reverse=descending)
    return ordered + sorted(missing, key=lambda row: row.label)


# -- departments ---------------------------------------------------------------------------------

def _department_rows(session, actor, scope, period, now) -> list[PerformanceRow]:
    rows: dict[str, PerformanceRow] = {}

    def row(key) -> PerformanceRow:
        return rows.setdefault(str(key), PerformanceRow(str(key), ""))

    sums = [func.sum(when((COUNTS[key].condition(period, now), 1), else_=0)).label(key) for key in CASE_COUNTS]
    for found in session.execute(
            select(Case.department_id, *sums)
            .where(actor.case_filter(), scope_condition(scope), Case.department_id.is_not(None),
                   any_count(period, now))
            .group_by(Case.department_id)).all():
        _add_case_counts(row(found.department_id), found._mapping, received_key="dispatched")
    owner = func.coalesce(HumanTask.department_id, Case.department_id)
    tasks = and_(HumanTask.role.in_(HANDLING_ROLES), owner.is_not(None))
    _add_task_numbers(session, actor, scope, period, owner, tasks, row)
    names = {str(d.id): d.name for d in session.scalars(
        select(Department).where(Department.id.in_([int(key) for key in rows])))} if rows else {}
    for key, found in rows.items():
        found.label = names.get(key, key)
        for column, metric in (("received", "dispatched"), ("resolved", "resolved"), ("handled", "handled"),
                               ("surveyed", "surveyed"), ("satisfied", "satisfied"),
                               ("second_supervision", "second_supervision")):
            found.queries[column] = CaseQuery(metric, period, scope, {"department": key})
    return [found for found in rows.values() if _has_numbers(found)]


# -- mediators ----------------------------------------------------------------------------------

def _mediator_rows(session, actor, scope, period, now) -> list[PerformanceRow]:
    rows: dict[str, PerformanceRow] = {}

    def row(key) -> PerformanceRow:
        return rows.setdefault(key, PerformanceRow(key, ""))

    # One row per (case, mediator task): counting distinct cases keeps a case with two tasks by the
    # same mediator (调处 and the agreement) once.
    closed_keys = [key for key in CASE_COUNTS if key != "dispatched"]
    counts = [func.count(distinct(when((COUNTS[key].condition(period, now), Case.id)))).label(key)
              for key in closed_keys]
    mediated = and_(HumanTask.case_id == Case.id, HumanTask.role == MEDIATOR_ROLE, HumanTask.state == "completed",
                    HumanTask.completed_by.is_not(None))
    for found in session.execute(
            select(HumanTask.completed_by.label("mediator"), *counts).select_from(Case).join(HumanTask, mediated)
            .where(actor.case_filter(), scope_condition(scope), COUNTS["closed"].condition(period, now))
            .group_by(HumanTask.completed_by)).all():
        _add_case_counts(row(found.mediator), found._mapping, received_key=None)
    # A completed task is the completer's; an open one is whoever holds it (unclaimed: nobody's yet).
    owner = when((HumanTask.state == "completed", HumanTask.completed_by), else_=HumanTask.claimed_by)
    _add_task_numbers(session, actor, scope, period, owner, and_(HumanTask.role == MEDIATOR_ROLE, owner.is_not(None)),
                      row, count_completed_as_received=True)
    names = {user.username: user.display_name for user in session.scalars(
        select(User).where(User.username.in_(list(rows))))} if rows else {}
    for key, found in rows.items():
        found.label = names.get(key, key)
        for column in ("resolved", "handled", "surveyed", "satisfied", "second_supervision"):
            found.queries[column] = CaseQuery(column, period, scope, {"mediator": key})
    return [found for found in rows.values() if _has_numbers(found)]


# -- shared -----------------------------------------------------------------------------------------

def _add_case_counts(row: PerformanceRow, mapping, received_key: str | None) -> None:
    if received_key:
        row.received = int(mapping[received_key] or 0)
    for key in ("handled", "resolved", "surveyed", "satisfied", "second_supervision"):
        setattr(row, key, int(mapping[key] or 0))


def _add_task_numbers(session, actor, scope, period, owner, tasks, row, count_completed_as_received=False) -> None:
    """超期率, the median handling time (and for mediators 受理量) per owner of the tasks."""
    completed_in_period = and_(HumanTask.state == "completed", HumanTask.completed_at >= period.start,
                               HumanTask.completed_at < period.end)
    active = and_(HumanTask.created_at < period.end,
                  or_(HumanTask.state == "ready",
                      and_(HumanTask.state == "completed", HumanTask.completed_at >= period.start)))
    readable = and_(tasks, actor.case_filter(), scope_condition(scope))
    for found in session.execute(
            select(owner.label("owner"), func.count().label("tasks"),
                   func.sum(when((HumanTask.overdue_at.is_not(None), 1), else_=0)).label("overdue"),
                   func.sum(when((completed_in_period, 1), else_=0)).label("completed"))
            .join(Case, Case.id == HumanTask.case_id).where(readable, active).group_by(owner)).all():
        target = row(found.owner)
        target.tasks, target.overdue_tasks = int(found.tasks), int(found.overdue or 0)
        if count_completed_as_received:
            target.received = int(found.completed or 0)
    for key, hours in _median_hours(session, owner, and_(readable, completed_in_period)).items():
        row(key).median_hours = hours


def _median_hours(session: Session, owner, condition) -> dict[str, float]:
    if session.get_bind().dialect.name == "postgresql":
        seconds = extract("epoch", HumanTask.completed_at - HumanTask.created_at)
        result = session.execute(
            select(owner.label("owner"), func.percentile_cont(0.5).within_group(seconds).label("median"))
            .join(Case, Case.id == HumanTask.case_id).where(condition).group_by(owner)).all()
        return {str(r.owner): float(r.median) / 3600 for r in result if r.median is not None}
    durations: dict[str, list[float]] = {}
    for r in session.execute(select(owner.label("owner"), HumanTask.created_at, HumanTask.completed_at)
                             .join(Case, Case.id == HumanTask.case_id).where(condition)).all():
        durations.setdefault(str(r.owner), []).append((r.completed_at - r.created_at).total_seconds())
    return {key: median(values) / 3600 for key, values in durations.items()}


def _has_numbers(row: PerformanceRow) -> bool:
    return any((row.received, row.handled, row.resolved, row.surveyed, row.second_supervision, row.tasks))
