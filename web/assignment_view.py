"""Who works on a task, as the inbox and the task page show it: the queue it is offered to, who
claimed it, the AB岗 note, and the buttons — exactly the actions engine.assignment allows the
current user, so the page never offers what the state machine would refuse."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.assignment import allowed_actions
from engine.models import Department, HumanTask, Jurisdiction, User
from engine.queries import InboxItem, deadline_state
from engine.task_meta import ROLES

# The inbox's filters (我的待办): the key is the ?view= value.
INBOX_VIEWS = {"all": "全部", "mine": "我认领的", "open": "待认领", "standin": "代班（AB岗）"}


@dataclass(frozen=True)
class Assignment:
    """The assignment part of the task page for one user."""

    actions: list[str]
    queue: str
    claimant: str | None = None
    delegated_from: str | None = None
    acting_for: str | None = None  # the absent A whose task this user (their B岗) may complete
    acting_for_until: datetime | None = None
    backup: str | None = None  # the user's own B岗, named on the 交B岗办理 button
    candidates: list[User] = field(default_factory=list)
    refusal: str = ""  # why the form is not shown, when "complete" is not allowed

    @property
    def buttons(self) -> list[str]:
        """The actions shown as buttons; "complete" is the form itself."""
        return [action for action in self.actions if action != "complete"]


@dataclass(frozen=True)
class InboxRow:
    item: InboxItem
    state: str  # 正常 / 临期 / 超期 / 暂停
    actions: list[str]
    queue: str
    claimant: str | None
    view: str  # which filter the row belongs to: mine / open / standin


def names_of(session: Session, usernames) -> dict[str, str]:
    """Username → display name for the ones given (missing users keep their username)."""
    wanted = sorted({name for name in usernames if name})
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    found = {username: display or username for username, display in rows}
    return {name: found.get(name, name) for name in wanted}


def queue_labels(session: Session, tasks: list[HumanTask]) -> dict[str, str]:
    """Task id → the queue as people call it: the center's name, and the department for liaison work."""
    codes = {t.jurisdiction_code for t in tasks if t.jurisdiction_code}
    department_ids = {t.department_id for t in tasks if t.department_id is not None}
    centers = {row.code: row.center_name or row.name for row in session.scalars(
        select(Jurisdiction).where(Jurisdiction.code.in_(sorted(codes))))} if codes else {}
    departments = {row.id: row.name for row in session.scalars(
        select(Department).where(Department.id.in_(sorted(department_ids))))} if department_ids else {}
    labels = {}
    for task in tasks:
        center = centers.get(task.jurisdiction_code, task.jurisdiction_code or "—")
        department = departments.get(task.department_id)
        labels[task.id] = f"{center} · {department}" if department else center
    return labels


def assignment_for(session: Session, row: HumanTask, actor: Actor, assignments) -> Assignment:
    """What the task page shows `actor` about who works on `row`."""
    actions = assignments.actions_for(session, row, actor)
    user = session.scalars(select(User).where(User.username == actor.username)).one_or_none()
    backup = user.backup_username if user else None
    names = names_of(session, [row.claimed_by, row.delegated_from, backup])
    acting_for, until = None, None
    if row.claimed_by and row.claimed_by in actor.standing_in_for:
        acting_for = names.get(row.claimed_by)
        until = session.scalar(select(User.absent_until).where(User.username == row.claimed_by))
    return Assignment(
        actions=actions, queue=queue_labels(session, [row])[row.id],
        claimant=names.get(row.claimed_by), delegated_from=names.get(row.delegated_from),
        acting_for=acting_for, acting_for_until=until, backup=names.get(backup),
        candidates=assignments.candidates(session, row) if "reassign" in actions else [],
        refusal="" if "complete" in actions else refusal(row, actor, names.get(row.claimed_by)),
    )


def refusal(row: HumanTask, actor: Actor, claimant: str | None) -> str:
    """Why `actor` may not do the task, in words that tell them whom to ask."""
    role = ROLES.get(row.role, row.role)
    if row.state != "ready":
        return ""
    if row.claimed_by and row.claimed_by != actor.username:
        return f"此任务已由{claimant or row.claimed_by}认领办理。"
    if not actor.may_act_as(row.role):
        return f"此任务由{role}办理，您没有该角色。"
    return f"此任务在其他中心或部门的{role}队列中，不在您的办理范围。"


def inbox_rows(session: Session, actor: Actor, items: list[InboxItem], now: datetime,
               has_backup: bool) -> list[InboxRow]:
    """The inbox's rows with their queue, claimant and allowed actions, in the inbox's order."""
    tasks = [item.task for item in items]
    queues = queue_labels(session, tasks)
    names = names_of(session, [t.claimed_by for t in tasks])
    return [InboxRow(item, deadline_state(item.task, now), allowed_actions(item.task, actor, has_backup=has_backup),
                     queues[item.task.id], names.get(item.task.claimed_by), _view_of(item.task, actor))
            for item in items]


def _view_of(task: HumanTask, actor: Actor) -> str:
    if task.claimed_by is None:
        return "open"
    if task.claimed_by == actor.username:
        return "mine"
    return "standin"
