"""The node timers of the cockpit (节点计时): every open task of the cases a manager reads, with its
node, handler, elapsed time against its limit, time left and warning state.

A plain query over the human-task projection joined to its case, never a workflow. The first page
sorted by due time walks the (state, due_at) index in order and stops after a page, which is what
keeps it fast at a province's scale (bench/bench_cockpit.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from .actors import Actor
from .cockpit_metrics import QueryError, scope_condition
from .models import Case, HumanTask

PAGE_SIZE = 50
STATES = {"normal": "正常", "near_due": "临期", "overdue": "超期", "paused": "暂停计时"}
SORTS = {"due": "按到期时间", "elapsed": "按已用时长"}
UNCLAIMED = "待认领"


@dataclass(frozen=True)
class TimerFilter:
    """Which open tasks to list: the scope jurisdiction (already checked against the actor by the
    caller, see cockpit_metrics.check_scope) and optional equality filters.

    `department_id` selects tasks of cases dispatched to that department (Case.department_id), as
    the board's department dimension counts them, so a board number drills into the same cases.
    """

    scope: str
    category: str | None = None
    role: str | None = None
    department_id: int | None = None
    state: str | None = None  # a key of STATES
    sort: str = "due"  # a key of SORTS
    page: int = 1

    def check(self) -> None:
        """Raise QueryError naming the parameter that cannot be read."""
        if self.state is not None and self.state not in STATES:
            raise QueryError(f"state {self.state!r} is unknown; use one of {', '.join(STATES)}")
        if self.sort not in SORTS:
            raise QueryError(f"sort {self.sort!r} is unknown; use one of {', '.join(SORTS)}")
        if self.page < 1:
            raise QueryError(f"page {self.page} is not a page number; pages start at 1")


@dataclass(frozen=True)
class TimerRow:
    """One open task as the node-timer list shows it."""

    task_id: str
    case_id: int
    case_code: str
    category_code: str | None
    element_id: str
    node_name: str
    role: str  # the role whose queue it is in
    claimed_by: str | None
    queue_jurisdiction: str  # the center it is offered to
    queue_department_id: int | None
    created_at: datetime
    elapsed: timedelta
    deadline: str | None  # the limit as the process states it, "30 日"
    due_at: datetime | None
    time_left: timedelta | None  # negative once overdue
    state: str  # a key of STATES

    @property
    def handler(self) -> str:
        """Who has it: the claimant, or 待认领 while it waits in its queue."""
        return self.claimed_by or UNCLAIMED

    @property
    def state_label(self) -> str:
        return STATES[self.state]


@dataclass(frozen=True)
class TimerPage:
    rows: list[TimerRow]
    total: int  # open tasks matching the filter, on every page
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def state_condition(state: str, now: datetime) -> ColumnElement[bool]:
    """The SQL condition of one timer state; the states exclude each other (paused wins, then overdue)."""
    running = HumanTask.paused_at.is_(None)
    overdue = or_(HumanTask.overdue_at.is_not(None), HumanTask.due_at < now)
    if state == "paused":
        return HumanTask.paused_at.is_not(None)
    if state == "overdue":
        return and_(running, overdue)
    near = and_(HumanTask.warn_at <= now, or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now),
                HumanTask.overdue_at.is_(None))
    if state == "near_due":
        return and_(running, near)
    if state == "normal":
        return and_(running, HumanTask.overdue_at.is_(None),
                    or_(HumanTask.due_at.is_(None), HumanTask.due_at >= now),
                    or_(HumanTask.warn_at.is_(None), HumanTask.warn_at > now))
    raise QueryError(f"state {state!r} is unknown; use one of {', '.join(STATES)}")


def task_state(task: HumanTask, now: datetime) -> str:
    """The timer state of one task, by the same rules as `state_condition`."""
    if task.paused_at is not None:
        return "paused"
    if task.overdue_at is not None or (task.due_at is not None and task.due_at < now):
        return "overdue"
    if task.warn_at is not None and task.warn_at <= now:
        return "near_due"
    return "normal"


def conditions(actor: Actor, selection: TimerFilter, now: datetime) -> ColumnElement[bool]:
    """The open tasks `selection` lists, of cases `actor` reads (HumanTask joined to Case)."""
    selection.check()
    # A task is ready only while its case is open; saying so lets PostgreSQL check access against the
    # small open-case index (ix_case_open_access) instead of every case.
    parts = [HumanTask.state == "ready", Case.status == "open", actor.case_filter(), scope_condition(selection.scope)]
    if selection.category:
        parts.append(HumanTask.category_code == selection.category)
    if selection.role:
        parts.append(HumanTask.role == selection.role)
    if selection.department_id is not None:
        parts.append(Case.department_id == selection.department_id)
    if selection.state:
        parts.append(state_condition(selection.state, now))
    return and_(*parts)


def node_timers(session: Session, actor: Actor, selection: TimerFilter, now: datetime) -> TimerPage:
    """One page of the node-timer list and the total for the filter."""
    where = conditions(actor, selection, now)
    if selection.sort == "due":
        # Tasks without a limit come last (NULLS LAST is also the (state, due_at) index's own order, so
        # the first page is read off the index); of equal limits the older first; the id makes the order
        # total, so pages never overlap.
        order = [HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id]
    else:
        order = [HumanTask.created_at, HumanTask.id]  # the longest waiting first
    rows = session.execute(
        select(HumanTask, Case.code)
        .join(Case, Case.id == HumanTask.case_id)
        .where(where)
        .order_by(*order)
        .limit(PAGE_SIZE).offset((selection.page - 1) * PAGE_SIZE)).all()
    total = session.scalar(select(func.count()).select_from(HumanTask)
                           .join(Case, Case.id == HumanTask.case_id).where(where))
    return TimerPage([_row(task, code, now) for task, code in rows], total or 0, selection.page)


def _row(task: HumanTask, case_code: str, now: datetime) -> TimerRow:
    return TimerRow(
        task_id=task.id, case_id=task.case_id, case_code=case_code, category_code=task.category_code,
        element_id=task.element_id, node_name=task.name, role=task.role, claimed_by=task.claimed_by,
        queue_jurisdiction=task.jurisdiction_code, queue_department_id=task.department_id,
        created_at=task.created_at, elapsed=now - task.created_at, deadline=task.deadline, due_at=task.due_at,
        time_left=None if task.due_at is None else task.due_at - now, state=task_state(task, now))
