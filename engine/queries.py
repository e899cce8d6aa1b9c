"""Read-only queries over projections, each scoped to what the actor may see.

None of these deserializes a workflow. A case outside the actor's jurisdiction does not exist for
them (NotFound), so ids cannot be probed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from .actors import Actor
from .errors import NotFound
from .models import Case, CaseEvent, ExtensionRequest, HumanTask, PendingTimer

STATUS_NAMES = {"open": "办理中", "concluded": "已办结", "terminated": "已终止"}


@dataclass(frozen=True)
class InboxItem:
    task: HumanTask
    case: Case

    def deadline_state(self, now: datetime) -> str:
        """正常 / 临期 / 超期 for the task at `now`."""
        return deadline_state(self.task, now)


def deadline_state(task: HumanTask, now: datetime) -> str:
    if task.paused_at is not None:
        return "暂停"
    if task.due_at is not None and (task.overdue_at is not None or now > task.due_at):
        return "超期"
    if task.warn_at is not None and (task.warned_at is not None or now > task.warn_at):
        return "临期"
    return "正常"


def inbox(session: Session, actor: Actor, limit: int = 200) -> list[InboxItem]:
    """Ready tasks for the actor, earliest due first: those they claimed, those offered to their
    queues (role, center, department) and not claimed, and an absent colleague's (AB岗)."""
    mine = or_(HumanTask.claimed_by == actor.username,
               and_(HumanTask.claimed_by.is_(None), actor.task_filter()))
    if actor.standing_in_for:  # AB岗: the absent colleague's claimed tasks come to the backup
        mine = or_(mine, HumanTask.claimed_by.in_(sorted(actor.standing_in_for)))
    rows = session.execute(
        select(HumanTask, Case).join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.state == "ready", mine)
        .order_by(HumanTask.due_at.asc(), HumanTask.created_at.asc()).limit(limit)
    ).all()
    return [InboxItem(task, case) for task, case in rows]


def case_list(session: Session, actor: Actor, status: str | None = None, limit: int = 200,
              repeat_only: bool = False) -> list[Case]:
    """Cases in the actor's jurisdiction, newest first; `repeat_only`: only repeat complaints (重复投诉)."""
    query = select(Case).where(actor.case_filter())
    if status:
        query = query.where(Case.status == status)
    if repeat_only:
        query = query.where(Case.is_repeat.is_(True))
    return list(session.scalars(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)))


def case_count(session: Session, actor: Actor, status: str | None = None) -> int:
    """How many cases (of `status`, if given) the actor may read: the list shows at most 200."""
    query = select(func.count()).select_from(Case).where(actor.case_filter())
    if status:
        query = query.where(Case.status == status)
    return session.scalar(query) or 0


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    """One case, or NotFound if it does not exist or lies outside the actor's jurisdiction."""
    case = session.scalars(select(Case).where(Case.id == case_id, actor.case_filter())).one_or_none()
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def get_case_by_code(session: Session, actor: Actor, code: str) -> Case:
    case = session.scalars(select(Case).where(Case.code == code, actor.case_filter())).one_or_none()
    if case is None:
        raise NotFound(f"case {code} does not exist")
    return case


def get_task(session: Session, actor: Actor, task_id: str) -> tuple[HumanTask, Case]:
    """A task and its case, or NotFound if the case is outside the actor's jurisdiction."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task, get_case(session, actor, task.case_id)


def case_tasks(session: Session, case: Case) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)
                                .order_by(HumanTask.created_at, HumanTask.id)))


def case_events(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


def case_timers(session: Session, case: Case) -> list[PendingTimer]:
    return list(session.scalars(select(PendingTimer).where(PendingTimer.case_id == case.id)
                                .order_by(PendingTimer.due_at)))


def pending_extensions(session: Session, actor: Actor) -> list[tuple[ExtensionRequest, HumanTask, Case]]:
    """Extension requests waiting for a decision in the actor's jurisdiction, oldest first."""
    rows = session.execute(
        select(ExtensionRequest, HumanTask, Case)
        .join(HumanTask, HumanTask.id == ExtensionRequest.task_id).join(Case, Case.id == ExtensionRequest.case_id)
        .where(ExtensionRequest.state == "pending", actor.case_filter())
        .order_by(ExtensionRequest.requested_at)
    ).all()
    return [tuple(row) for row in rows]


def task_extensions(session: Session, task: HumanTask) -> list[ExtensionRequest]:
    return list(session.scalars(select(ExtensionRequest).where(ExtensionRequest.task_id == task.id)
                                .order_by(ExtensionRequest.requested_at)))
