"""日提醒 and 周督办: notices (站内通知) of due work, made by a periodic job where a locality switches them on.

`daily_digest = true` in a variant.toml (九原区): from 08:00 Beijing on each working day of the
handler's calendar, every handler whose unit lies in a place with the switch on (nearest first: a
county's switch covers its townships and villages unless one of them sets false) gets one 日提醒
listing exactly their due tasks. A task is *due for a handler* when

- it is ready, its case is open and its clock runs (a paused task waits for its pause to end);
- it is theirs: claimed by them, claimed by an absent colleague they are the AB岗 backup of, or
  unclaimed in a queue they may take from (Actor.task_filter: role, center, department);
- its limit ends no later than the end of the next working day (23:59:59 Beijing), or it is overdue.

A handler with nothing due gets no notice that day (should a task come due later that day, a later
run makes the notice then).

`weekly_supervision = true`: on the first working day of each ISO week (the Monday unless it is a
holiday), from 08:00, every 中心主任 (director) holding a grant where the switch is on gets one 周督办
listing the 超期 and 临期 open tasks of the cases registered or handled in that jurisdiction and below,
by the node-timer rules of engine/cockpit_timers.py. A director with nothing late gets none that week.

Both are idempotent: a notice is unique per (recipient, kind, day or week), so the job may run
every minute and on several servers.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Callable

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .actors import Actor, code_covers
from .calendar import SHANGHAI, Duration, Unit, WorkingCalendar
from .cockpit_metrics import week_of
from .cockpit_timers import STATES, state_condition, task_state
from .locality_settings import locality_setting, places_with
from .models import Case, HumanTask, Jurisdiction, Notice, RoleGrant, User
from .people import actor_for
from .task_meta import TASK_ROLES
from .variant_lookup import ancestors

log = logging.getLogger(__name__)

DAILY, WEEKLY = "daily_digest", "weekly_supervision"
KIND_NAMES = {DAILY: "日提醒", WEEKLY: "周督办"}
START = time(8, 0)  # notices go out from 08:00 Beijing: the start of the working day
ITEM_LIMIT = 200  # items kept per notice; the title always states the full count
NEXT_WORKING_DAY = Duration(1, Unit.WORKDAY)


def run_due(session_factory: Callable[[], Session], runtime, *, any_time: bool = False) -> int:
    """Make the 日提醒 and 周督办 that have come due at the runtime's clock; returns how many were made.

    `any_time` makes today's and this week's notices whatever the hour and day (the demo seeds them
    so that its users see one at once); the scheduler never passes it.
    """
    now = runtime.clock.now()
    variants = runtime.registry.variants
    made = 0
    if any(places_with(variants, DAILY).values()):
        made += make_daily_digests(session_factory, runtime, now, any_time=any_time)
    if any(places_with(variants, WEEKLY).values()):
        made += make_weekly_supervision(session_factory, runtime, now, any_time=any_time)
    return made


# -- 日提醒 -------------------------------------------------------------------------------------------

def make_daily_digests(session_factory: Callable[[], Session], runtime, now: datetime, *,
                       any_time: bool = False) -> int:
    """One 日提醒 per handler of a place with `daily_digest` on, for today (see the module docstring)."""
    today = now.astimezone(SHANGHAI).date()
    period = today.isoformat()
    places = _Places(runtime, DAILY)
    with session_factory() as session:
        users = _users_with_roles(session, TASK_ROLES, places.on_codes())
    made = 0
    for username, home in users:
        with session_factory() as session:
            try:
                if not places.switched_on(session, home) or not (
                        any_time or _started(places.calendar(session, home), now)):
                    continue
                if _exists(session, username, DAILY, period):
                    continue
                user = session.scalars(select(User).where(User.username == username)).one()
                items = due_tasks(session, actor_for(session, user, now), now, places.calendar(session, home))
                if items:
                    title = f"日提醒：{today.month}月{today.day}日 您有 {len(items)} 项待办今明两个工作日内到期或已超期"
                    made += _save(session, username, DAILY, home, period, title, items, now)
            except Exception:  # one user's failure must not stop the others' notices
                session.rollback()
                log.exception("daily digest for %s failed", username)
    return made


def due_tasks(session: Session, actor: Actor, now: datetime, calendar: WorkingCalendar) -> list[dict]:
    """The items of `actor`'s 日提醒 at `now`: their due tasks (module docstring), most urgent first."""
    horizon = calendar.add(now, NEXT_WORKING_DAY).due  # 23:59:59 of the next working day
    mine = [HumanTask.claimed_by == actor.username]
    if actor.standing_in_for:
        mine.append(HumanTask.claimed_by.in_(sorted(actor.standing_in_for)))
    mine.append(and_(HumanTask.claimed_by.is_(None), actor.task_filter()))
    rows = session.execute(
        select(HumanTask, Case.code).join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.state == "ready", Case.status == "open", HumanTask.paused_at.is_(None), or_(*mine),
               or_(HumanTask.overdue_at.is_not(None), HumanTask.due_at <= horizon))
        .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id)).all()
    return [_item(task, code, now) for task, code in rows]


# -- 周督办 -------------------------------------------------------------------------------------------

def make_weekly_supervision(session_factory: Callable[[], Session], runtime, now: datetime, *,
                            any_time: bool = False) -> int:
    """One 周督办 per director holding a grant where `weekly_supervision` is on, for this ISO week."""
    today = now.astimezone(SHANGHAI).date()
    period = week_of(today).key
    places = _Places(runtime, WEEKLY)
    with session_factory() as session:
        grants = session.execute(
            select(User.username, RoleGrant.jurisdiction_code).join(RoleGrant, RoleGrant.user_id == User.id)
            .where(User.active.is_(True), RoleGrant.role == "director")
            .order_by(User.username, RoleGrant.jurisdiction_code)).all()
    by_user: dict[str, list[str]] = {}
    for username, code in grants:
        if any(code_covers(place, code) for place in places.on_codes()):
            by_user.setdefault(username, []).append(code)
    made = 0
    for username, codes in by_user.items():
        with session_factory() as session:
            try:
                codes = [c for c in codes if places.switched_on(session, c)
                         and (any_time or _week_started(places.calendar(session, c), now))]
                if not codes or _exists(session, username, WEEKLY, period):
                    continue
                items = supervision_tasks(session, username, codes, now)
                if items:
                    overdue = sum(1 for i in items if i["state"] == STATES["overdue"])
                    names = "、".join(_place_name(session, c) for c in codes)
                    title = (f"周督办：{period.replace('-W', '年第')}周 {names} 超期 {overdue} 项、"
                             f"临期 {len(items) - overdue} 项")
                    made += _save(session, username, WEEKLY, codes[0], period, title, items, now)
            except Exception:  # one director's failure must not stop the others' notices
                session.rollback()
                log.exception("weekly supervision for %s failed", username)
    return made


def supervision_tasks(session: Session, username: str, codes: list[str], now: datetime) -> list[dict]:
    """The 超期 and 临期 open tasks of the cases in `codes` (a director's jurisdictions), overdue first."""
    reader = Actor(username, frozenset(g for c in codes for g in Actor.of(username, {"director"}, c).grants))
    rows = session.execute(
        select(HumanTask, Case.code).join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.state == "ready", Case.status == "open", reader.case_filter(),
               or_(state_condition("overdue", now), state_condition("near_due", now)))
        .order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id)).all()
    items = [_item(task, code, now) for task, code in rows]
    return sorted(items, key=lambda i: i["state"] != STATES["overdue"])  # stable: overdue first, each by due time


# -- shared -----------------------------------------------------------------------------------------

class _Places:
    """The switch and calendar of each jurisdiction, looked up once per run."""

    def __init__(self, runtime, key: str):
        self.runtime, self.key = runtime, key
        self.variants = runtime.registry.variants
        self._on: dict[str, bool] = {}
        self._calendars: dict[str, WorkingCalendar] = {}

    def on_codes(self) -> list[str]:
        """Places that switch the capability on themselves (a township may switch it off below them)."""
        return [code for code, value in places_with(self.variants, self.key).items() if value]

    def switched_on(self, session: Session, code: str) -> bool:
        if code not in self._on:
            self._on[code] = bool(locality_setting(self.variants, ancestors(session, code), self.key, False))
        return self._on[code]

    def calendar(self, session: Session, code: str) -> WorkingCalendar:
        if code not in self._calendars:
            self._calendars[code] = self.runtime.calendar_loader(session, code)
        return self._calendars[code]


def _users_with_roles(session: Session, roles, places: list[str]) -> list[tuple[str, str]]:
    """(username, home jurisdiction) of active users holding one of `roles` whose unit lies in `places`."""
    rows = session.execute(
        select(User.username, User.jurisdiction_code).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(User.active.is_(True), RoleGrant.role.in_(roles)).distinct().order_by(User.username)).all()
    return [(name, home) for name, home in rows if any(code_covers(place, home) for place in places)]


def _started(calendar: WorkingCalendar, now: datetime) -> bool:
    """A working day in Beijing, from 08:00."""
    local = now.astimezone(SHANGHAI)
    return calendar.is_workday(local.date()) and local.time() >= START


def _week_started(calendar: WorkingCalendar, now: datetime) -> bool:
    """The ISO week's first working day, from 08:00: the list is the state of the week's start."""
    local = now.astimezone(SHANGHAI)
    return local.date() == _first_workday(calendar, local.date()) and local.time() >= START


def _first_workday(calendar: WorkingCalendar, day: date) -> date | None:
    monday = day - timedelta(days=day.weekday())
    for offset in range(7):
        candidate = monday + timedelta(days=offset)
        if calendar.is_workday(candidate):
            return candidate
    return None


def _exists(session: Session, username: str, kind: str, period: str) -> bool:
    return session.scalar(select(Notice.id).where(Notice.recipient == username, Notice.kind == kind,
                                                  Notice.period == period)) is not None


def _save(session: Session, username: str, kind: str, code: str, period: str, title: str, items: list[dict],
          now: datetime) -> int:
    """Store the notice; 0 if another run made it first (the unique index decides)."""
    session.add(Notice(recipient=username, kind=kind, jurisdiction_code=code, period=period, title=title[:200],
                       items=items[:ITEM_LIMIT], created_at=now))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return 0
    return 1


def _item(task: HumanTask, case_code: str, now: datetime) -> dict:
    return {"task_id": task.id, "case_id": task.case_id, "case_code": case_code, "node": task.name,
            "due_at": task.due_at.isoformat() if task.due_at else None,
            "state": STATES[task_state(task, now)], "claimed_by": task.claimed_by}


def _place_name(session: Session, code: str) -> str:
    row = session.get(Jurisdiction, code)
    return row.name if row is not None else code
