"""Demo data: the seed localities' organisation (fengqiao.demo_org) and a few hundred cases with real
histories, driven through the engine by the people who would handle them.

Time is simulated: one FakeClock walks from four months ago to now through an agenda of registrations
and task completions, sweeping due timers as a scheduler would, so 临期/超期, 督办 and every event are
genuine and lie in the past. Each case gets a fate (archived, mediation failed, left mediating …) that
steers its answers and where it stops; a step the process no longer offers is skipped with a log line.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.actors import SUPERVISORY_ROLES, Actor
from engine.assignment import Assignments
from engine.calendar import SHANGHAI, WorkingCalendar
from engine.clock import FakeClock
from engine.errors import EngineError
from engine.models import Case, HumanTask, PendingTimer, User
from engine.people import actor_for
from engine.runtime import CaseRuntime
from engine.timers import sweep_due_timers

from .demo_answers import CATEGORY_CHANNELS, CHANNELS, DEFAULT_LEVELS, REGISTRATION_LEVELS, STORIES, Facts, \
    answers_for, intake_for
from .demo_channels import DEMO_CHANNELS, DemoChannels, demo_token
from .demo_org import ABSENT_USER, DEMO_PASSWORD, JIUYUAN, KUNDULUN, LEGACY_USERS, PLACES, Organisation, \
    build_organisation

log = logging.getLogger(__name__)

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "JIUYUAN", "KUNDULUN", "seed_demo"]

# The accounts `fengqiao serve` prints (username, display name, roles, jurisdiction); the full list by
# locality comes with the seeding summary.
DEMO_USERS = [(u, d, list(r), c) for u, d, r, c in LEGACY_USERS]

DEFAULT_CASES = 300
HISTORY = timedelta(days=120)
SWEEP_EVERY = timedelta(hours=6)  # the simulated scheduler's ticks (a real one runs every 15 s)
MAX_STEPS = 40  # per case; loops in a process (harm checks, repeated mediation) end long before
COUNTY_WEIGHTS = {"150207": 4, "150203": 4, "150204": 2, "150202": 2, "150222": 2, "150621": 3, "621024": 2,
                  "620902": 2}
LEVEL_WEIGHTS = {"county": 5, "township": 3, "village": 2}  # which window registers a case
PLACE_WEIGHTS = {"county": 1, "township": 2, "village": 5, "grid": 2}  # where the dispute happened

# fate: weight, elements the case waits at (never completed), only for cases registered within N days
FATES: dict[str, tuple[int, frozenset[str], int | None]] = {
    "archived": (30, frozenset(), None),
    "failed": (9, frozenset(), None),
    "rejected": (5, frozenset(), None),
    "dissatisfied": (6, frozenset(), None),
    "judicial": (3, frozenset({"judicial_confirmation"}), 45),  # waiting for the court
    "judicial_done": (3, frozenset(), None),
    "escalated": (6, frozenset({"mediate"}), None),  # escalates its first mediation, waits at the next
    "mediating": (14, frozenset({"mediate", "handle", "inspection", "arbitration_award", "dual_track"}), None),
    "supervised": (4, frozenset({"mediate", "handle", "inspection"}), None),
    "awaiting_follow_up": (5, frozenset({"follow_up", "review_request"}), 20),
    "awaiting_archive": (4, frozenset({"archive"}), 15),
    "registered": (3, frozenset({"accept", "register_dispatch"}), 4),
    "assessing": (4, frozenset({"assess", "register_dispatch"}), 8),
    "dispatching": (4, frozenset({"dispatch", "receipt_decision", "window_dispatch"}), 8),
}
# Typical time until a task is done, in hours (low, high); others take DEFAULT_GAP.
GAPS = {
    # 昆都仑区's 六步法 (processes/variants/150203): forwarding within its 15 minutes, mostly.
    "window_dispatch": (0.05, 0.3), "dual_track": (48, 400), "letter_dispatch": (2, 24), "analysis": (2, 24),
    "accept": (0.5, 6), "register_dispatch": (2, 48), "assess": (2, 24), "dispatch": (2, 40), "mediate": (48, 400),
    "agreement": (2, 48), "notify_result": (4, 48), "follow_up": (60, 150), "second_supervision": (2, 20),
    "archive": (24, 96), "supervise": (2, 20), "leader_instruction": (4, 40), "judicial_confirmation": (120, 500),
    "handle": (200, 1000), "receipt_decision": (4, 72), "notify_acceptance": (24, 200), "reply": (24, 60),
    "review_request": (24, 300), "recheck_request": (24, 300), "review": (200, 600), "recheck": (200, 600),
    "inspection_accept": (24, 100), "inspection": (200, 900), "arbitration_accept": (24, 100),
    "arbitration_award": (300, 1000), "harm_determination": (24, 200), "mediation_notice": (4, 48),
    "department_opinion": (8, 60), "binding_opinion": (8, 48), "protection_order": (1, 20),
    "protection_order_urgent": (1, 12), "report_health_commission": (2, 24),
}
DEFAULT_GAP = (4, 72)
LATE_SHARE = 0.15  # mediations that run past their limit (and collect 超期, 督办) before concluding
LATE_ELEMENTS = frozenset({"mediate", "handle", "inspection", "arbitration_award", "judicial_confirmation"})
FIRST = ("supervise", "leader_instruction", "escalate_supervision", "second_supervision")  # done before the rest
RISK = (("红", 4), ("橙", 12), ("黄", 46), ("蓝", 38))
COMPLEXITY = (("simple", 30), ("ordinary", 55), ("complex", 15))


@dataclass
class _Run:
    """One demo case: its plan and how far it got."""

    category: str
    story: tuple
    place: str  # where it happened (the case's jurisdiction)
    window: str  # the center that registers it
    channel: str
    fate: str
    registered_at: datetime
    rng: random.Random
    facts: Facts | None = None
    case_id: int | None = None
    stops: frozenset[str] = frozenset()
    done: Counter = field(default_factory=Counter)

    def waits_at(self, element_id: str) -> bool:
        """The case's fate leaves it waiting at this task (an escalated case after its first mediation)."""
        allowed = 1 if self.fate == "escalated" and element_id == "mediate" else 0
        return element_id in self.stops and self.done[element_id] >= allowed


def seed_demo(session: Session, services, cases: int = DEFAULT_CASES, seed: int = 2026) -> str:
    """Create the demo organisation, users and `cases` cases if the database has no users yet.

    Returns a summary with the logins by locality (what `fengqiao demo` prints).
    """
    if session.scalar(select(func.count()).select_from(User)):
        return "demo data already present; nothing added"
    started = time.monotonic()
    real_now = services.clock.now()
    org = build_organisation(session, real_now.astimezone(SHANGHAI).date())
    simulation = _Simulation(session, services, org, real_now, random.Random(seed))
    simulation.plan(cases)
    simulation.run()
    # 日提醒 and 周督办 of today and this week, so 九原区's handlers and directors find them at once.
    from engine.digests import run_due as make_notices
    make_notices(simulation.factory, services.runtime, any_time=True)
    elapsed = time.monotonic() - started
    return _summary(session, org, simulation, elapsed)


class _Simulation:
    """Walks a fake clock through an agenda of registrations and task completions."""

    def __init__(self, session: Session, services, org: Organisation, real_now: datetime, rng: random.Random):
        self.session, self.services, self.org, self.real_now, self.rng = session, services, org, real_now, rng
        self.start = real_now - HISTORY
        self.clock = FakeClock(self.start)
        self.runtime = CaseRuntime(services.registry, self.clock)
        self.assignments = Assignments(self.clock)
        self.factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
        self.calendar = WorkingCalendar()
        self.agenda: list = []
        self.counter = itertools.count()
        self.runs: dict[int, _Run] = {}
        self.waiting: set[int] = set()  # cases that go on when a timer fires
        self.next_sweep = self.start
        self.skipped = 0
        self.channels = DemoChannels(session, org.centers("county"), self.clock.now())
        # Actors are built once (and again when someone's leave starts); keeping no User rows around
        # keeps the session's identity map small, which every commit walks.
        self.actors: dict[str, Actor] = {}
        self.backups: dict[str, str] = {}  # A -> B (AB岗)
        self.absent: set[str] = set()
        self.queues: dict[tuple[str, str], list[str]] = defaultdict(list)  # (role, center) -> usernames
        for user in session.scalars(select(User)):
            self.actors[user.username] = actor_for(session, user, self.clock.now())
            if user.backup_username:
                self.backups[user.username] = user.backup_username
            if user.username in ("admin", "kdl"):
                continue  # the all-role accounts are for people trying the demo, not for its history
            for grant in user.grants:
                self.queues[(grant.role, grant.jurisdiction_code)].append(user.username)
        session.expunge_all()

    # -- planning --------------------------------------------------------------------------------

    def plan(self, count: int) -> None:
        categories = [code for code in STORIES if code in self.services.registry.categories]
        counties = self.org.centers("county")
        span = (self.real_now - self.start).total_seconds()
        for index in range(count):
            rng = random.Random(self.rng.random())
            category = categories[index % len(categories)]
            stories = STORIES[category]
            story = stories[(index // len(categories)) % len(stories)]
            county = _weighted(rng, [(code, COUNTY_WEIGHTS.get(code, 1)) for code in counties])
            place = self._place(rng, county)
            window = self._window(rng, place, REGISTRATION_LEVELS.get(category, DEFAULT_LEVELS))
            window_level = self.org.places[window][1]
            channel = CATEGORY_CHANNELS.get(category) or (
                "grid" if self.org.places[place][1] == "grid" and window_level != "county"
                else rng.choice(CHANNELS[window_level]))
            at = self.start + timedelta(seconds=span * (index + rng.random()) / count)
            at = min(self._working_time(at, rng), self.real_now - timedelta(minutes=30))
            age_days = (self.real_now - at).days
            fate = _weighted(rng, [(name, weight) for name, (weight, _stops, recent) in FATES.items()
                                   if recent is None or age_days <= recent])
            run = _Run(category, story, place, window, channel, fate, at, rng, stops=FATES[fate][1])
            if fate in ("mediating", "supervised") and rng.random() < 0.5:
                # 督办 issued (or 领导批示 asked for) and not yet answered
                run.stops = run.stops | {"supervise" if fate == "mediating" else "leader_instruction"}
            self._schedule(at, self._register, run)
        self._schedule(self.real_now - timedelta(days=6, hours=3), self._claims_before_leave)
        self._schedule(self.real_now - timedelta(days=4, hours=5), self._leave_starts)
        self._schedule(self.real_now - timedelta(days=2, hours=6), self._backup_covers)
        self._schedule(self.real_now - timedelta(hours=2), self._claim_some_open_tasks)

    def _place(self, rng: random.Random, county: str) -> str:
        """Where the dispute happened: mostly a village, grid or township of the county."""
        below = defaultdict(list)
        for code, (_name, level, _parent, _center) in self.org.places.items():
            if code.startswith(county) and code != county:
                below[level].append(code)
        level = _weighted(rng, [(lvl, weight) for lvl, weight in PLACE_WEIGHTS.items()
                                if lvl == "county" or below[lvl]])
        return county if level == "county" else rng.choice(below[level])

    def _window(self, rng: random.Random, place: str, levels) -> str:
        """The center whose window registers the case: the county's, or one on the way to the place."""
        on_path = {}
        code = place
        while code:
            _name, level, parent, center = self.org.places[code]
            if center and level in levels:
                on_path[level] = code
            code = parent or ""
        return on_path[_weighted(rng, [(level, LEVEL_WEIGHTS[level]) for level in on_path])]

    # -- the clock -------------------------------------------------------------------------------

    def _schedule(self, at: datetime, action: Callable, *args) -> None:
        heapq.heappush(self.agenda, (at, next(self.counter), action, args))

    def run(self) -> None:
        while self.agenda:
            at, _, action, args = heapq.heappop(self.agenda)
            if at > self.real_now:
                continue  # the future: the case waits there
            self._move_to(at)
            action(*args)
        self._move_to(self.real_now)
        self._sweep()

    def _move_to(self, at: datetime) -> None:
        """Advance the clock to `at`, sweeping on the simulated scheduler's ticks on the way."""
        while self.next_sweep < at:
            self.clock.set(self.next_sweep)
            self._sweep()
            self.next_sweep += SWEEP_EVERY
        self.clock.set(max(at, self.clock.now()))

    def _fire_own_timers(self, case_id: int) -> None:
        """Before someone acts on a case, what fell due since the last tick has fired (a real
        scheduler runs every 15 s, so a late mediation is 超期 before it is concluded)."""
        due = self.session.scalar(select(PendingTimer.id).where(
            PendingTimer.case_id == case_id, PendingTimer.due_at < self.clock.now()).limit(1))
        if due is not None:
            self.session.commit()
            self.runtime.fire_due_timers(self.session, case_id)

    def _sweep(self) -> None:
        self.session.commit()  # end any read transaction; the sweep writes in sessions of its own
        result = sweep_due_timers(self.factory, self.runtime)
        for case_id, error in result.failed.items():
            log.warning("demo: timers of case %s failed: %s", case_id, error)
        for case_id in {fired.case_id for fired in result.fired} & self.waiting:
            self.waiting.discard(case_id)
            run = self.runs[case_id]
            self._schedule(self._later(run, "supervise"), self._step, run)

    def _later(self, run: _Run, element_id: str, task: HumanTask | None = None) -> datetime:
        """When the task gets done: a typical time for its kind, within its limit — except a share of
        mediations that run late (and collect 临期, 超期 and 督办 on the way)."""
        low, high = GAPS.get(element_id, DEFAULT_GAP)
        hours = run.rng.uniform(low, high)
        now = self.clock.now()
        if task is not None and task.due_at is not None:
            left = (task.due_at - now).total_seconds() / 3600
            if element_id in LATE_ELEMENTS and run.rng.random() < LATE_SHARE:
                hours = left * run.rng.uniform(1.05, 1.4)
            else:
                hours = min(hours, max(left * 0.7, 0.2))
            if task.deadline and "小时" in task.deadline:
                return now + timedelta(hours=hours)  # an hours limit (人身安全保护令) does not wait for office hours
        return self._working_time(now + timedelta(hours=hours), run.rng)

    def _working_time(self, at: datetime, rng: random.Random) -> datetime:
        """The same moment if it falls in office hours on a working day, else early on the next one."""
        local = at.astimezone(SHANGHAI)
        if self.calendar.is_workday(local.date()) and 8 <= local.hour < 18:
            return at
        day = local.date() + timedelta(days=0 if local.hour < 8 else 1)
        while not self.calendar.is_workday(day):
            day += timedelta(days=1)
        return datetime(day.year, day.month, day.day, 8, 30, tzinfo=SHANGHAI) + timedelta(minutes=rng.randrange(300))

    # -- cases -----------------------------------------------------------------------------------

    def _register(self, run: _Run) -> None:
        clerk = self._pick(run.rng, "clerk", run.window, lambda actor: actor.can_register(run.place))
        category = self.services.registry.category(run.category)
        county = self.org.county_of(run.place)
        center_name = self.org.places[run.window][3] or ""
        extra = run.story[2]
        amount = extra.get("amount") or extra.get("claimed_amount") or extra.get("wage_amount")
        run.facts = Facts(run.story[0], self.org.places[county][0], center_name, run.rng, fixed=dict(run.story[3]),
                          amount=amount)
        intake = intake_for(run.category, run.story, category.bundle.form(category.intake_form).schema,
                            self.org.path_name(run.place), county, self.org.places[county][0], run.channel,
                            self.clock.now(), run.rng)
        if clerk is None:
            return self._skip(run, "registration", f"no clerk may register at {run.place}")
        try:
            if self.channels.sends(run.channel):
                # 12345, 110, the court and 信访 send their cases through the channel API's path.
                case = self.channels.submit(self.runtime, run.channel, county, run.category, run.place, intake)
            else:
                case = self.runtime.start_case(self.session, run.category, intake, run.place, clerk)
        except EngineError as exc:
            self.session.rollback()
            return self._skip(run, "registration", str(exc))
        run.case_id = case.id
        self.runs[case.id] = run
        self._next(run)

    def _next(self, run: _Run) -> None:
        """Schedule the case's next step, or leave it where its fate or its process says."""
        task = self._next_task(run)
        if task is None:
            case = self.session.get(Case, run.case_id)
            if case.status == "open":
                self.waiting.add(run.case_id)  # a timer (督办, a window closing) moves it on
            return
        if sum(run.done.values()) >= MAX_STEPS:
            return
        self._schedule(self._later(run, task.element_id, task), self._step, run)

    def _next_task(self, run: _Run) -> HumanTask | None:
        tasks = self.session.scalars(select(HumanTask).where(HumanTask.case_id == run.case_id,
                                                             HumanTask.state == "ready")).all()
        tasks = [task for task in tasks if not run.waits_at(task.element_id)]
        tasks.sort(key=lambda task: (task.element_id not in FIRST, task.created_at, task.id))
        return tasks[0] if tasks else None

    def _step(self, run: _Run) -> None:
        self._fire_own_timers(run.case_id)
        task = self._next_task(run)
        if task is None:
            return self._next(run)
        if self._complete(run, task):
            self._next(run)

    def _complete(self, run: _Run, task: HumanTask) -> bool:
        """Someone who may take the task does it, answering as the case's fate leans."""
        actor = self._actor_for_task(run, task)
        if actor is None:
            self._skip(run, task.element_id, f"no demo user may take {task.role} at {task.jurisdiction_code}")
            return False
        case = self.session.get(Case, run.case_id)
        schema = self.runtime.form(self.session, case, task.form).schema
        run.facts.prefer = self._preferences(run, task.element_id)
        place = self.org.places.get(task.jurisdiction_code)
        run.facts.center = (place[3] if place else None) or run.facts.center  # who writes the record
        answers = answers_for(schema, task.form_defaults, self.clock.now(), run.facts, task.form)
        try:
            self.runtime.complete_task(self.session, task.id, answers, actor)
        except EngineError as exc:
            self.session.rollback()
            self._skip(run, task.element_id, str(exc))
            return False
        run.done[task.element_id] += 1
        return True

    def _skip(self, run: _Run, step: str, reason: str) -> None:
        self.skipped += 1
        log.info("demo: %s case %s (%s) stops before %s: %s", run.category, run.case_id or "-", run.story[0],
                 step, reason)

    def _preferences(self, run: _Run, element_id: str) -> dict[str, tuple]:
        """How this case answers now: its fate, and a little chance for colour."""
        rng, fate, times = run.rng, run.fate, run.done[element_id]
        prefer: dict[str, tuple] = {
            "risk_color": (_weighted(rng, RISK),), "complexity": (_weighted(rng, COMPLEXITY),),
            "satisfaction": ("satisfied" if rng.random() < 0.75 else "basically_satisfied",),
            "handling_result": (rng.choice(("supported", "partly_supported", "explained")),),
            "apply_judicial_confirmation": (False,), "joint_application": (True,),
        }
        if fate == "failed":
            prefer["mediation_outcome"] = ("failure", "ended")
            prefer["inspection_result"] = ("ordered",)
            prefer["arbitration_result"] = ("award",)
        elif fate == "rejected":
            prefer.update(accepted=(False,), dispatch_decision=("legal_channel",))
        elif fate == "dissatisfied" and element_id == "follow_up" and times == 0:
            prefer["satisfaction"] = ("dissatisfied",)
        elif fate in ("judicial", "judicial_done"):
            prefer["apply_judicial_confirmation"] = (True,)
        elif fate == "escalated" and times == 0:
            prefer["mediation_outcome"] = ("escalate",)
            prefer["supervision_decision"] = ("escalate",)
        elif fate == "supervised":
            prefer["supervision_decision"] = ("refer_leader",)
        return prefer

    # -- who acts --------------------------------------------------------------------------------

    def _pick(self, rng: random.Random, role: str, center: str, eligible: Callable[[Actor], bool]) -> Actor | None:
        """A present user holding `role` at `center` (supervisors also from the centers above)."""
        centers = [center]
        if role in SUPERVISORY_ROLES:
            code = center
            while code in self.org.places and self.org.places[code][2]:
                code = self.org.places[code][2]
                centers.append(code)
        for code in centers:
            names = [name for name in self.queues.get((role, code), [])
                     if name not in self.absent and eligible(self.actors[name])]
            if names:
                return self.actors[rng.choice(names)]
        return None

    def _actor_for_task(self, run: _Run, task: HumanTask) -> Actor | None:
        queue = task.jurisdiction_code or self.session.get(Case, run.case_id).handling_jurisdiction_code
        if task.claimed_by:
            owner = task.claimed_by
            if owner in self.absent:  # AB岗: the absent claimant's named backup acts for them
                owner = self.backups.get(owner, "")
            return self.actors.get(owner)
        return self._pick(run.rng, task.role, queue, lambda actor: _may_work(actor, task, queue))

    # -- AB岗 and claims -------------------------------------------------------------------------

    def _claims_before_leave(self) -> None:
        """A takes a few of the center's mediations before going on leave."""
        actor = self.actors.get(ABSENT_USER)
        if actor is None:
            return
        task_ids = self.session.scalars(select(HumanTask.id).where(
            HumanTask.state == "ready", HumanTask.role == "mediator", HumanTask.claimed_by.is_(None),
            HumanTask.jurisdiction_code == actor.jurisdiction_code).order_by(HumanTask.created_at).limit(3)).all()
        for task_id in task_ids:
            self._claim(task_id, actor)

    def _leave_starts(self) -> None:
        user = self.session.scalars(select(User).where(User.username == ABSENT_USER)).one_or_none()
        if user is None:
            return
        user.absent_until = self.real_now + timedelta(days=5)
        self.session.commit()
        self.absent.add(ABSENT_USER)
        backup = self.backups.get(ABSENT_USER)
        if backup:  # B now stands in for A
            self.actors[backup] = actor_for(self.session, self.session.scalars(
                select(User).where(User.username == backup)).one(), self.clock.now())

    def _backup_covers(self) -> None:
        """B completes one of the absent A's claimed tasks; the record says B acted for A."""
        task = self.session.scalars(select(HumanTask).where(
            HumanTask.state == "ready", HumanTask.claimed_by == ABSENT_USER).order_by(HumanTask.created_at)).first()
        if task is None:
            return
        run = self.runs.get(task.case_id)
        if run is None:
            return
        waiting = run.waits_at(task.element_id)  # else its next step is already on the agenda
        run.stops = run.stops - {task.element_id}
        if self._complete(run, task) and waiting:
            self._next(run)

    def _claim_some_open_tasks(self) -> None:
        """Half of the open handling work has been claimed by someone, as in a working inbox."""
        tasks = self.session.scalars(select(HumanTask).where(
            HumanTask.state == "ready", HumanTask.claimed_by.is_(None),
            HumanTask.role.in_(("mediator", "liaison", "analyst"))).order_by(HumanTask.id)).all()
        for task in tasks:
            run = self.runs.get(task.case_id)
            if run is None or run.rng.random() < 0.5:
                continue
            queue = task.jurisdiction_code
            actor = self._pick(run.rng, task.role, queue, lambda a: _may_work(a, task, queue))
            if actor is not None:
                self._claim(task.id, actor)

    def _claim(self, task_id: str, actor: Actor) -> None:
        try:
            self.assignments.claim(self.session, task_id, actor)
        except EngineError as exc:
            self.session.rollback()
            log.info("demo: %s could not claim task %s: %s", actor.username, task_id, exc)


def _may_work(actor: Actor, task: HumanTask, queue: str) -> bool:
    """May take the task and see its case: a liaison held for one department reads only what is queued
    to that department, so work queued to no department goes to the center's coordinating liaison."""
    if not actor.can_take(task.role, queue, task.department_id):
        return False
    return task.department_id is not None or actor.covers(queue)


def _weighted(rng: random.Random, choices):
    names = [name for name, _weight in choices]
    return rng.choices(names, weights=[weight for _name, weight in choices])[0]


# -- the summary ---------------------------------------------------------------------------------

LEVEL_LABELS = {"province": "省", "city": "市", "county": "县区旗", "township": "乡镇街道", "village": "村社区",
                "grid": "网格"}
STATUS_LABELS = {"open": "办理中", "concluded": "已办结", "terminated": "已终止"}


def _summary(session: Session, org: Organisation, simulation: _Simulation, elapsed: float) -> str:
    cases = session.scalar(select(func.count()).select_from(Case))
    by_status = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
    open_tasks = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready"))
    overdue = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.state == "ready", HumanTask.due_at < simulation.real_now))
    counts = org.counts()
    lines = [
        f"demo data: {len(org.places)} places ("
        + "，".join(f"{LEVEL_LABELS[level]} {counts.get(level, 0)}" for level in LEVEL_LABELS)
        + f"), {org.departments} departments, {len(org.users)} users, {cases} cases ("
        + "，".join(f"{STATUS_LABELS.get(s, s)} {n}" for s, n in sorted(by_status.items()))
        + f"), {open_tasks} open tasks ({overdue} overdue); seeded in {elapsed:.0f} s"
        + (f"; {simulation.skipped} steps skipped (see log)" if simulation.skipped else ""),
        "",
        f"demo logins — password for every account: {DEMO_PASSWORD}",
        "  first demo: " + " ".join(u for u, _d, _r, code in LEGACY_USERS if code == JIUYUAN) + "（九原区）, "
        + " ".join(u for u, _d, _r, code in LEGACY_USERS if code == KUNDULUN) + "（昆都仑区）; admin holds every role",
    ]
    lines += _login_table(org)
    lines.append(f"  AB岗: {ABSENT_USER} is on leave; their backup {ABSENT_USER}.b sees and does the tasks they claimed")
    channel_cases = session.scalar(select(func.count()).select_from(Case).where(Case.channel_id.is_not(None)))
    hotline = DEMO_CHANNELS["hotline_12345"][0]
    lines += [
        "",
        f"intake channels: {'、'.join(name for _c, name, _p in DEMO_CHANNELS.values())} sent {channel_cases} cases "
        "through /api/v1 (OpenAPI: /api/v1/openapi.json)",
        f"  demo token of {hotline} for 九原区: {demo_token(hotline, JIUYUAN)}  "
        f"(pattern fq_demo_<channel>_<county code>)",
    ]
    return "\n".join(lines)


def _login_table(org: Organisation) -> list[str]:
    """The account pattern per level, then the places by city and county with their prefixes."""
    suffixes: dict[str, list[str]] = defaultdict(list)
    for username, *_rest in org.users:
        if "." in username:
            prefix, suffix = username.split(".", 1)
            suffixes[prefix].append(suffix)
    patterns: dict[str, list[str]] = {}
    for _code, _name, level, _parent, _center, prefix in PLACES:
        if prefix and level not in patterns:
            patterns[level] = suffixes[prefix]
    core = [s for s in patterns["county"] if not s.startswith("liaison.")]
    bodies = [s.split(".", 1)[1] for s in patterns["county"] if s.startswith("liaison.")]
    lines = [
        f"  每个市: <市>.{{{','.join(patterns['city'])}}}",
        f"  每个县区旗: <县>.{{{','.join(core)}}}",
        f"      部门联络员: <县>.liaison.{{{','.join(bodies)}}}",
        f"  每个乡镇街道: <镇>.{{{','.join(patterns['township'])}}}   每个村社区: <村>.{{{','.join(patterns['village'])}}}",
        "  例: jiuyuan.clerk  jiuyuan.liaison.police  halinger.mediator  xinguang.director  baotou.manager",
        "  每个网格: <网格代码>.grid_worker（网格员，手机上报纠纷 /grid/report），例: "
        + "  ".join(f"{code}.grid_worker" for code, *_rest in [p for p in PLACES if p[2] == "grid"][:2]),
        "  群众查询办理进度: /status（案件编号 + 登记手机号后四位）",
    ]
    for code, name, level, _parent, _center, prefix in PLACES:
        if level == "city":
            lines.append(f"  {name} {code} <{prefix}>")
        elif level == "county":
            below = {lvl: [p for c, _n, lv, _pa, _ce, p in PLACES if lv == lvl and c.startswith(code)]
                     for lvl in ("township", "village")}
            lines.append(f"    {name} {code} <{prefix}>  乡镇街道 <{' '.join(below['township'])}>"
                         f"  村社区 <{' '.join(below['village'])}>")
    return lines
