"""Running sample cases of a draft, path by path, in scratch databases (engine/simulation_db.py).

A run registers a case and makes decisions until the case ends: at each, the newest ready task (a
督办 raised while 调处 is open is answered before it) is completed with an answer, or — while the
case has timers — the clock is moved just past the next one instead (超时不办). With no task ready
the clock moves to the next timer by itself; with neither the case is stalled.

The first run takes every default. Where a run meets an alternative no run has tried yet for that
task, the scratch database is copied as it is before the decision and a fork is queued that takes
the alternative there and the defaults after it (breadth first). When those are done and elements
of the draft are still unreached, alternatives are tried once more for tasks offered at another
center (申请升级 at a village leads elsewhere than at the county), until everything is reached or
the run limit is hit. A run that goes exactly as an earlier one is counted, not reported.
"""
from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .assignment import Assignments
from .clock import FakeClock
from .errors import EngineError, FormInvalid, ProcessError
from .models import Case, HumanTask, PendingTimer
from .projection import TIMER_KIND_SUMMARY
from .runtime import CaseRuntime
from .simulation_answers import AnswerBook, Option
from .simulation_db import ScratchDatabase
from .simulation_report import (Answer, RunError, SimulatedPath, SimulationReport, case_status, document_titles,
                                path_events, reached_elements, task_steps)

MAX_STEPS = 60  # decisions and timer waits in one run: a loop the answers never leave stops here
SECOND_ROUND_LIMIT = 200  # forks kept for the second round, each with a compressed copy of the database


@dataclass(frozen=True)
class Fork:
    """A run to make: from a copy of the scratch database before a decision, taking option `index`."""

    image: bytes  # zlib-compressed: ~0.5 MB of mostly empty pages shrink to ~40 KB
    now: datetime
    case_id: int
    answers: tuple[Answer, ...]
    seen: tuple[tuple[str, int], ...]  # tasks answered so far on the path, and how often
    steps: int
    index: int


@dataclass
class _Progress:
    """Where a run is: its case, the decisions made, and how it ended (status None: still going)."""

    case_id: int
    answers: list[Answer] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # tasks answered so far, and how often
    steps: int = 0
    forced: int | None = None  # the option the first decision of a fork takes
    status: str | None = None
    error: RunError | None = None


class Explorer:
    """Runs sample cases of one published draft; `explore` fills a SimulationReport's paths."""

    def __init__(self, base_image: bytes, runtime: CaseRuntime, clock: FakeClock, answers: AnswerBook,
                 category_code: str, place: str, intake: dict, actor: Actor,
                 flows: dict[tuple[str, str], list[str]], element_ids: Iterable[str]):
        self.base_image, self.runtime, self.clock, self.answers = base_image, runtime, clock, answers
        self.category_code, self.place, self.intake, self.actor = category_code, place, intake, actor
        self.flows = flows
        self.element_ids = set(element_ids)
        self.covered: set = set()
        self._first: deque[Fork | None] = deque([None])  # None: a new case from the start
        self._second: deque[Fork] = deque()
        self._tried: set[tuple[str, str]] = set()  # (element id, choice)
        self._tried_at: set[tuple[str, str, str]] = set()  # (element id, center, choice)
        self._candidates: dict[tuple, tuple[str, ...]] = {}
        self._assignments = Assignments(clock)

    def explore(self, report: SimulationReport, max_runs: int) -> None:
        seen: set[tuple] = set()
        while report.runs < max_runs:
            if self._first:
                fork = self._first.popleft()
            elif self._second and self.element_ids - self.covered:
                fork = self._second.popleft()
            else:
                break
            path, coverage, signature = self.run(fork, len(report.paths) + 1)
            report.runs += 1
            self.covered |= coverage
            if signature in seen:
                report.duplicates += 1
                continue
            seen.add(signature)
            report.paths.append(path)
        report.capped = bool(self._first) or bool(self._second and self.element_ids - self.covered)

    # -- one run --------------------------------------------------------------------------------------

    def run(self, fork: Fork | None, number: int) -> tuple[SimulatedPath, frozenset, tuple]:
        database = ScratchDatabase(self.base_image if fork is None else zlib.decompress(fork.image))
        try:
            return self._run(database, fork, number)
        finally:
            database.close()

    def _run(self, database: ScratchDatabase, fork: Fork | None, number: int):
        if fork is None:
            self.clock.set(self.answers.start)
            try:
                with database.sessions() as scratch:
                    case_id = self.runtime.start_case(scratch, self.category_code, dict(self.intake), self.place,
                                                      self.actor).id
            except ProcessError as exc:
                error = _run_error(exc)
                path = SimulatedPath(number, [], [], [], [], [], "error", error, [error.element_id or "-"])
                return path, frozenset(path.reached), ("error", error)
            progress = _Progress(case_id)
        else:
            self.clock.set(fork.now)
            progress = _Progress(fork.case_id, list(fork.answers), dict(fork.seen), fork.steps, fork.index)
        while progress.status is None:
            if progress.steps >= MAX_STEPS:
                progress.status = "step_limit"
                break
            progress.steps += 1
            image = database.image()  # the case before this decision, for the forks it may queue
            with database.sessions() as scratch:
                self._step(scratch, progress, image)
        return self._path(database, progress, number)

    def _step(self, scratch: Session, progress: _Progress, image: bytes) -> None:
        """One decision (or a wait for the next timer when no task is ready); sets `progress.status`
        when the case has ended, is stuck or failed."""
        case_id = progress.case_id
        if (state := case_status(scratch, case_id)) != "open":
            progress.status = state
            return
        ready = scratch.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "ready")
                                .order_by(HumanTask.created_at.desc(), HumanTask.element_id, HumanTask.id)).first()
        timer = scratch.scalars(select(PendingTimer).where(PendingTimer.case_id == case_id)
                                .order_by(PendingTimer.due_at, PendingTimer.id).limit(1)).first()
        if ready is None and timer is None:
            progress.status = "stalled"
            return
        try:
            if ready is None:
                self._wait(scratch, case_id, timer)
                return
            options = self.answers.options(ready, ready.element_id not in progress.seen, self.clock.now())
            if timer is not None:
                kind = TIMER_KIND_SUMMARY.get(timer.kind or "", "计时器")
                options.append(Option(f"超时不办：等到 {timer.element_id}（{kind}）到期", None))
            if progress.forced is None:
                self._queue_alternatives(ready, options, Fork(image, self.clock.now(), case_id, tuple(progress.answers),
                                                              tuple(progress.seen.items()), progress.steps - 1, 0))
            option = options[progress.forced or 0]
            progress.forced = None
            progress.seen[ready.element_id] = progress.seen.get(ready.element_id, 0) + 1
            progress.answers.append(Answer(ready.element_id, ready.name, ready.form, option.data, option.choice))
            if option.data is None:
                self._wait(scratch, case_id, timer)
            else:
                self.runtime.complete_on_behalf(scratch, ready.id, option.data, self.actor)
        except ProcessError as exc:
            progress.status, progress.error = "error", _run_error(exc)
        except FormInvalid as exc:
            progress.status, progress.error = "error", RunError(
                ready.element_id, f"模拟答案不符合表单 {exc.form}：" + "；".join(str(e) for e in exc.errors)
                + "（请在答案中指定）")
        except EngineError as exc:
            progress.status, progress.error = "error", RunError(ready.element_id if ready else None, str(exc))

    def _queue_alternatives(self, row: HumanTask, options: list[Option], before: Fork) -> None:
        image = None
        for index, option in enumerate(options[1:], start=1):
            key, here = (row.element_id, option.choice), (row.element_id, row.jurisdiction_code, option.choice)
            if key not in self._tried:
                self._tried.add(key)
                queue = self._first
            elif here not in self._tried_at and len(self._second) < SECOND_ROUND_LIMIT:
                queue = self._second
            else:
                continue
            self._tried_at.add(here)
            image = image or zlib.compress(before.image, 1)
            queue.append(Fork(image, before.now, before.case_id, before.answers, before.seen, before.steps, index))

    def _wait(self, scratch: Session, case_id: int, timer: PendingTimer) -> None:
        """Let the case's next timer fire: the clock moves just past it (timers fire strictly after)."""
        self.clock.set(max(self.clock.now(), timer.due_at + timedelta(seconds=1)))
        self.runtime.fire_due_timers(scratch, case_id)

    # -- what the run did -------------------------------------------------------------------------------

    def _path(self, database: ScratchDatabase, progress: _Progress,
              number: int) -> tuple[SimulatedPath, frozenset, tuple]:
        case_id, answers, status, error = progress.case_id, progress.answers, progress.status, progress.error
        with database.sessions() as scratch:
            steps = task_steps(scratch, case_id, self.candidates)
            events = path_events(scratch, case_id)
            documents = document_titles(scratch, case_id)
            case = scratch.get(Case, case_id)
            workflow = self.runtime.codec.load_state(case.workflow_state, self.runtime.bundle(scratch, case))
        sequence, flows = reached_elements(workflow, self.flows)
        if error is not None and error.element_id:
            sequence.append(error.element_id)
        reached = list(dict.fromkeys(sequence))
        choices = [f"{a.task_name}：{a.choice}" for a in answers if a.choice]
        path = SimulatedPath(number, choices, answers, steps, events, documents, status, error, reached)
        queues = {(step.element_id, step.center_code, step.department) for step in steps}
        # Repeats count: a second round of 调处 is another path than one round.
        signature = (tuple(sequence), tuple(sorted(queues, key=str)), status, error)
        return path, frozenset(set(reached) | flows | queues), signature

    def candidates(self, scratch: Session, row: HumanTask) -> tuple[str, ...]:
        """Display names of the users who may take the task where it is offered (once per queue)."""
        key = (row.role, row.jurisdiction_code, row.department_id)
        if key not in self._candidates:
            self._candidates[key] = tuple(user.display_name or user.username
                                          for user in self._assignments.candidates(scratch, row))
        return self._candidates[key]


def _run_error(exc: ProcessError) -> RunError:
    prefix = f"{exc.element_id or 'process'}: "
    text = str(exc)
    return RunError(exc.element_id, text[len(prefix):] if text.startswith(prefix) else text)
