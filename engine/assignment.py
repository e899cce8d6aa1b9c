"""Who works on a human task: the small state machine over the `human_task` row.

    offered (to a role at a center, maybe a department) --claim--> claimed --complete--> completed
    claimed --unclaim--> offered          (by the claimant, or a supervisor releasing it)
    any ready --reassign--> claimed by X  (中心主任 / 政法委 over the task's center)
    claimed by A --delegate--> claimed by B  (A hands it to their named backup, AB岗)
    claimed by A, A absent --> B may complete it; the record says B acted for A

`allowed_actions` is the single source the UI asks, so it shows exactly what the machine permits.
Claims are conditional updates: of two people claiming at once, one wins, the other gets a
ConflictError. None of this touches the workflow; completing does (CaseRuntime.complete_task).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .actors import Actor
from .errors import ConflictError, EngineError, Forbidden, NotFound, TaskNotReady
from .events import EventLog
from .models import Case, HumanTask, User
from .people import actor_for, is_absent

ACTION_NAMES = {"claim": "认领", "complete": "办理", "unclaim": "退回队列", "reassign": "改派",
                "delegate": "交B岗办理"}


class AssignmentError(EngineError):
    """An assignment the state machine does not allow (the message says why)."""


def get_visible_case(session: Session, actor: Actor, case_id: int) -> Case | None:
    return session.scalars(select(Case).where(Case.id == case_id, actor.case_filter())).one_or_none()


def _queue_of(row: HumanTask, case: Case | None = None) -> str:
    return row.jurisdiction_code or (case.handling_jurisdiction_code if case else "")


def allowed_actions(row: HumanTask, actor: Actor, *, has_backup: bool = False) -> list[str]:
    """The actions `actor` may take on task `row` now, in the order the UI shows them."""
    if row.state != "ready":
        return []
    queue = _queue_of(row)
    eligible = actor.can_take(row.role, queue, row.department_id)
    supervisor = actor.supervises(queue)
    actions: list[str] = []
    if row.claimed_by is None:
        if eligible:
            actions += ["complete", "claim"]
    elif row.claimed_by == actor.username:
        actions += ["complete", "unclaim"]
        if has_backup:
            actions.append("delegate")
    elif row.claimed_by in actor.standing_in_for:
        actions.append("complete")
    if supervisor:
        actions.append("reassign")
        if row.claimed_by not in (None, actor.username):
            actions.append("unclaim")
    return actions


def check_may_work(row: HumanTask, actor: Actor) -> None:
    """Forbidden unless `actor` may work on (complete, pause, extend) ready task `row`."""
    if "complete" not in allowed_actions(row, actor):
        if row.claimed_by and row.claimed_by != actor.username:
            raise Forbidden(f"task {row.name} is claimed by {row.claimed_by}")
        raise Forbidden(f"task {row.name} is offered to role {row.role} at {_queue_of(row) or '—'}"
                        f"{' (department ' + str(row.department_id) + ')' if row.department_id else ''}; "
                        f"{actor.username} may not take it")


class Assignments:
    """Claim, unclaim, reassign and delegate tasks; each call commits or changes nothing."""

    def __init__(self, clock):
        self.clock = clock

    def claim(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        row = self._ready(session, task_id, actor)
        if "claim" not in allowed_actions(row, actor):
            raise Forbidden(f"{actor.username} may not claim {row.name}")
        self._set_claim(session, row, actor.username, expected=None, delegated_from=None)
        self._log(session, row, actor, "task_claimed", f"认领：{row.name}")
        session.commit()
        return row

    def unclaim(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        row = self._ready(session, task_id, actor)
        if "unclaim" not in allowed_actions(row, actor):
            raise Forbidden(f"{actor.username} may not release {row.name}")
        previous = row.claimed_by
        self._set_claim(session, row, None, expected=previous, delegated_from=None)
        self._log(session, row, actor, "task_unclaimed", f"退回队列：{row.name}（原认领人 {previous}）",
                  {"previous": previous})
        session.commit()
        return row

    def reassign(self, session: Session, task_id: str, to_username: str, actor: Actor, reason: str = "") -> HumanTask:
        """A supervisor gives the task to a named person who may take it."""
        row = self._ready(session, task_id, actor)
        if "reassign" not in allowed_actions(row, actor):
            raise Forbidden(f"reassigning {row.name} needs 中心主任 or 政法委 over {_queue_of(row)}")
        target = self._eligible_user(session, row, to_username)
        previous = row.claimed_by
        self._set_claim(session, row, target.username, expected=previous, delegated_from=None)
        self._log(session, row, actor, "task_reassigned",
                  f"改派：{row.name} → {target.display_name or target.username}" + (f"（{reason}）" if reason else ""),
                  {"previous": previous, "to": target.username, "reason": reason})
        session.commit()
        return row

    def delegate(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        """A hands a claimed task to their named backup B (AB岗)."""
        row = self._ready(session, task_id, actor)
        user = session.scalars(select(User).where(User.username == actor.username)).one_or_none()
        backup_name = user.backup_username if user else None
        if "delegate" not in allowed_actions(row, actor, has_backup=bool(backup_name)):
            raise Forbidden(f"{actor.username} may not delegate {row.name}: claim it first and name a backup (AB岗)")
        backup = self._eligible_user(session, row, backup_name)
        self._set_claim(session, row, backup.username, expected=actor.username, delegated_from=actor.username)
        self._log(session, row, actor, "task_delegated",
                  f"AB岗转交：{row.name} → {backup.display_name or backup.username}",
                  {"from": actor.username, "to": backup.username})
        session.commit()
        return row

    def actions_for(self, session: Session, row: HumanTask, actor: Actor) -> list[str]:
        """`allowed_actions`, knowing whether the actor has a named backup."""
        backup = session.scalar(select(User.backup_username).where(User.username == actor.username))
        return allowed_actions(row, actor, has_backup=bool(backup))

    def candidates(self, session: Session, row: HumanTask) -> list[User]:
        """Active users who may take the task: whom a supervisor can reassign it to."""
        now = self.clock.now()
        users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
        return [u for u in users if actor_for(session, u, now).can_take(row.role, _queue_of(row), row.department_id)
                and not is_absent(u, now)]

    # -- helpers ---------------------------------------------------------------------------------

    def _ready(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        row = session.get(HumanTask, task_id)
        if row is None or get_visible_case(session, actor, row.case_id) is None:
            raise NotFound(f"task {task_id} does not exist")
        if row.state != "ready":
            raise TaskNotReady(task_id, row.state)
        return row

    def _eligible_user(self, session: Session, row: HumanTask, username: str | None) -> User:
        user = session.scalars(select(User).where(User.username == (username or ""))).one_or_none()
        if user is None or not user.active:
            raise AssignmentError(f"user {username} does not exist or is disabled")
        if not actor_for(session, user, self.clock.now()).can_take(row.role, _queue_of(row), row.department_id):
            raise AssignmentError(f"{user.username} may not take {row.name} (role {row.role} at {_queue_of(row)})")
        return user

    def _set_claim(self, session: Session, row: HumanTask, username: str | None, *, expected: str | None,
                   delegated_from: str | None) -> None:
        # Conditional on the claim we read: a concurrent claim makes this match nothing.
        claimed = HumanTask.claimed_by.is_(None) if expected is None else HumanTask.claimed_by == expected
        result = session.execute(
            update(HumanTask).where(HumanTask.id == row.id, HumanTask.state == "ready", claimed)
            .values(claimed_by=username, claimed_at=self.clock.now() if username else None,
                    delegated_from=delegated_from).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            session.rollback()
            raise ConflictError(f"task {row.name} was claimed or completed by someone else; reload and try again")
        session.refresh(row)

    def _log(self, session: Session, row: HumanTask, actor: Actor, kind: str, summary: str, data=None) -> None:
        EventLog(session, row.case_id, self.clock.now()).add(actor.username, kind, summary,
                                                             element_id=row.element_id, task_id=row.id,
                                                             data=data or {})


def claim_on_completion(row: HumanTask, actor: Actor, now: datetime) -> str | None:
    """Record who completed the task; returns the absent colleague B acted for, if any (AB岗)."""
    # Only a named backup standing in acts "for" A; anyone else completing a claimed task (a director,
    # the citizen answering 回访 online) acts in their own right.
    on_behalf_of = row.claimed_by if row.claimed_by and row.claimed_by in actor.standing_in_for else None
    if row.claimed_by is None:
        row.claimed_by, row.claimed_at = actor.username, now
    return on_behalf_of
