"""谁调解、谁负责: the 回访 of a case goes to the mediator who handled it (locality switch
`follow_up_by_mediator`, engine/locality_settings.py).

Called after every engine run, once the new human tasks exist. When a 回访 task (`follow_up`, from
processes/library/follow_up.bpmn) has just been created for a case whose place switches this on, the
task is claimed for the person who last completed a 调处 task of the case, and offered under the
调处 role: the mediator is answerable for the follow-up, not the window. Only if that person may
still take work of that role at the center handling the follow-up (active, not away, still holding
the role there — an escalated case has a new center) — otherwise the task stays in its queue as the
process declares it, for whoever holds that role.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .events import EventLog
from .locality_settings import locality_setting
from .models import Case, HumanTask, User
from .people import actor_for, is_absent
from .variant_lookup import ancestors

SETTING = "follow_up_by_mediator"
FOLLOW_UP_ELEMENTS = ("follow_up",)  # the library's 回访 task
MEDIATION_ELEMENTS = ("mediate",)  # 调处, in every category that mediates
CLAIMED_KIND = "follow_up_to_mediator"


def assign_follow_up(session: Session, case: Case, variants, now: datetime, log: EventLog) -> HumanTask | None:
    """Claim a 回访 task created in this run for the case's mediator, where the locality asks for it.

    Returns the task claimed, or None (switch off, no new 回访, no mediator, or they may not take it).
    """
    # Created in this run: the run stamps its tasks with its own `now`.
    new_rows = list(session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.state == "ready", HumanTask.created_at == now,
        HumanTask.element_id.in_(FOLLOW_UP_ELEMENTS), HumanTask.claimed_by.is_(None))))
    if not new_rows:
        return None
    chain = ancestors(session, case.jurisdiction_code)
    if not locality_setting(variants, chain, SETTING, False):
        return None
    mediation = session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "completed",
                                HumanTask.element_id.in_(MEDIATION_ELEMENTS), HumanTask.completed_by.is_not(None))
        .order_by(HumanTask.completed_at.desc(), HumanTask.created_at.desc())).first()
    if mediation is None:
        return None
    user = session.scalars(select(User).where(User.username == mediation.completed_by)).one_or_none()
    row = new_rows[0]
    if (user is None or not user.active or is_absent(user, now)
            or not actor_for(session, user, now).can_take(mediation.role, row.jurisdiction_code, row.department_id)):
        log.add("system", CLAIMED_KIND, f"谁调解、谁负责：调解员 {mediation.completed_by} 无法承接回访，回访留在队列",
                element_id=row.element_id, task_id=row.id,
                data={"mediator": mediation.completed_by, "claimed": False})
        return None
    row.role, row.department_id = mediation.role, None
    row.claimed_by, row.claimed_at = user.username, now
    log.add("system", CLAIMED_KIND, f"谁调解、谁负责：回访由调解员 {user.display_name or user.username} 负责",
            element_id=row.element_id, task_id=row.id,
            data={"mediator": user.username, "claimed": True, "role": mediation.role})
    return row
