"""Benchmark: task completions through engine + database against bare in-memory SpiffWorkflow.

    .venv/bin/python -m bench.bench_engine [--cases 200] [--postgres URL] [--open-cases 10000]

Measures, in one run on one machine:
- bare SpiffWorkflow: the 邻里 success path (8 user tasks) completed in memory, no saving (baseline);
- persisted completions through CaseRuntime on SQLite (and PostgreSQL if a URL is given), split into
  load (row + deserialize), engine (task run + engine steps), project (projections + events),
  serialize, and the rest (queries, flush, commit);
- stored bytes per case (workflow state, events, projections) and the spec stored once;
- the timer sweep: idle with N open cases, and with 100 of them due;
- what the cockpit's rollup flush hook (engine/case_rollup.py) adds per completion: the same path
  with the hook removed and with it in place, alternated in halves so drift falls on both.
Prints a Markdown report; docs/PERFORMANCE.md records the figures.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

import engine.case_rollup as case_rollup
import engine.runtime as runtime_module
from engine.actors import Actor
from engine.calendar import SHANGHAI, WorkingCalendar
from engine.clock import FakeClock
from engine.db import create_schema, make_engine, make_session_factory
from engine.deadlines import deadline_helpers
from engine.forms import FormLibrary
from engine.models import Case, CaseEvent, HumanTask, PendingTimer, ProcessSpec
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.scripting import script_engine
from engine.spiff_time import running_at
from engine.timers import sweep_due_timers

ROOT = Path(__file__).resolve().parent.parent
ACTOR = Actor.of("bench", frozenset({"clerk", "analyst", "mediator", "director"}), "150207")
INTAKE = {"title": "楼上漏水", "summary": "楼上卫生间漏水致楼下受损。", "channel": "walk_in",
          "applicant_name": "张伟", "applicant_phone": "13904720001", "applicant_id_number": "150207198001010012"}
SUCCESS_PATH = [
    ("accept", {"accepted": True}),
    ("assess", {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般邻里纠纷"}),
    ("dispatch", {"handling_level": "village", "department": "村人民调解委员会"}),
    ("mediate", {"mediation_outcome": "success", "mediation_record": "达成一致"}),
    ("agreement", {"agreement_terms": "赔偿维修费", "apply_judicial_confirmation": False}),
    ("notify_result", {"notice_method": "phone"}),
    ("follow_up", {"satisfaction": "satisfied"}),
    ("archive", {"archive_note": "归档"}),
]
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


class Split:
    """Accumulates seconds per phase by wrapping the functions that do each phase."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timing(self, phase: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

    def wrap(self, owner, name: str, phase: str):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            with self.timing(phase):
                return original(*args, **kwargs)

        setattr(owner, name, wrapped)
        return lambda: setattr(owner, name, original)


def bare_spiff(registry: ProcessRegistry, cases: int) -> float:
    """Seconds per completion, in memory, same process and script environment, nothing saved."""
    bundle = registry.category("neighbour").bundle
    calendar = WorkingCalendar()
    elapsed = 0.0
    for _ in range(cases):
        workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
        workflow.script_engine = script_engine(deadline_helpers(bundle, calendar, START))
        workflow.task_tree.data.update(dict(INTAKE))
        with running_at(START):
            workflow.do_engine_steps()
            for element_id, data in SUCCESS_PATH:
                task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                            if t.task_spec.bpmn_id == element_id)
                started = time.perf_counter()
                task.set_data(**data)
                task.run()
                runtime_module._run_until_waiting(workflow)
                elapsed += time.perf_counter() - started
        assert workflow.is_completed()
    return elapsed / (cases * len(SUCCESS_PATH))


def persisted(runtime: CaseRuntime, sessions, cases: int) -> dict:
    """Per-completion seconds and the phase split, through the runtime and a real database."""
    split = Split()
    restore = [
        split.wrap(runtime.codec, "load_state", "deserialize"),
        split.wrap(runtime.codec, "dump_state", "serialize"),
        split.wrap(runtime_module, "_run_until_waiting", "engine"),
        split.wrap(runtime_module, "project", "project"),
    ]
    total = 0.0
    try:
        for _ in range(cases):
            with sessions() as session:
                case = runtime.start_case(session, "neighbour", dict(INTAKE), "150207", ACTOR)
                case_id = case.id
            for element_id, data in SUCCESS_PATH:
                with sessions() as session:
                    task_id = session.scalars(select(HumanTask.id).where(
                        HumanTask.case_id == case_id, HumanTask.state == "ready",
                        HumanTask.element_id == element_id)).one()
                started = time.perf_counter()
                with sessions() as session:
                    runtime.complete_task(session, task_id, data, ACTOR)
                total += time.perf_counter() - started
    finally:
        for undo in restore:
            undo()
    completions = cases * len(SUCCESS_PATH)
    # start_case also serializes/projects; count only what completions spent: measured phases are
    # proportional, so scale them by the completions' share of all engine calls.
    phases = {phase: seconds / (completions + cases) for phase, seconds in split.seconds.items()}
    per = total / completions
    phases["database and the rest"] = per - sum(phases.values())
    return {"per_completion": per, "phases": phases}


@contextmanager
def rollup_hook_removed():
    hooks = (("before_flush", case_rollup._remember_before), ("after_flush", case_rollup._write_delta))
    for name, hook in hooks:
        event.remove(Session, name, hook)
    try:
        yield
    finally:
        for name, hook in hooks:
            event.listen(Session, name, hook)


def rollup_hook_cost(runtime: CaseRuntime, sessions, cases: int) -> dict:
    """ms per completion without and with the rollup hook, each over `cases` cases in two halves."""
    half = max(1, cases // 2)
    without, kept = [], []
    for _ in range(2):
        with rollup_hook_removed():
            without.append(persisted(runtime, sessions, half)["per_completion"])
        kept.append(persisted(runtime, sessions, half)["per_completion"])
    return {"without": statistics.mean(without), "with": statistics.mean(kept)}


def stored_bytes(sessions) -> dict:
    with sessions() as session:
        states = session.scalars(select(func.length(Case.workflow_state))).all()
        spec = session.scalars(select(func.length(ProcessSpec.spec_json))).all()
        events = session.scalar(select(func.count()).select_from(CaseEvent))
        event_bytes = sum(len(str(e.data)) + len(e.summary.encode()) for e in session.scalars(select(CaseEvent)))
        cases = len(states)
    return {"state_per_case": statistics.mean(states), "spec_once": sum(spec),
            "events_per_case": events / cases, "event_data_bytes_per_case": event_bytes / cases}


def sweep_benchmark(runtime: CaseRuntime, sessions, clock: FakeClock, open_cases: int, due: int) -> dict:
    """Idle sweep cost at open_cases/10 and open_cases, then a sweep with `due` cases due."""
    def make_cases(count: int, at: datetime):
        clock.set(at)
        for _ in range(count):
            with sessions() as session:
                case_id = runtime.start_case(session, "neighbour", dict(INTAKE), "150207", ACTOR).id
            for _element_id, data in SUCCESS_PATH[:3]:
                with sessions() as session:
                    task_id = session.scalars(select(HumanTask.id).where(
                        HumanTask.case_id == case_id, HumanTask.state == "ready")).one()
                    runtime.complete_task(session, task_id, data, ACTOR)

    def idle_sweep_ms(repeats: int = 20) -> float:
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = sweep_due_timers(sessions, runtime)
            timings.append(time.perf_counter() - started)
            assert not result.fired
        return statistics.median(timings) * 1000

    # `due` cases started early (their 临期 timer is due first); the rest a week later.
    make_cases(due, START)
    small = open_cases // 10
    make_cases(small - due, START + timedelta(days=7))
    clock.set(START + timedelta(days=8))
    _analyze(sessions)
    idle_small = idle_sweep_ms()
    make_cases(open_cases - small, START + timedelta(days=7))
    clock.set(START + timedelta(days=8))
    _analyze(sessions)
    idle_large = idle_sweep_ms()
    with sessions() as session:
        first_warning = session.scalar(select(func.min(PendingTimer.due_at)))
    clock.set(first_warning + timedelta(hours=1))
    started = time.perf_counter()
    result = sweep_due_timers(sessions, runtime)
    busy = time.perf_counter() - started
    return {"open_small": small, "idle_small_ms": idle_small, "open_large": open_cases, "idle_large_ms": idle_large,
            "due": len(result.fired), "due_sweep_s": busy, "per_fired_ms": busy / max(len(result.fired), 1) * 1000}


def _analyze(sessions) -> None:
    """Give PostgreSQL's planner the statistics autovacuum would have gathered by now.

    Right after a bulk load a fresh table has none, and the planner then scans it whole instead of
    using the due_at index — a benchmark artefact, not what a running server does.
    """
    with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE pending_timer"))
            session.commit()


def _case_tables():
    """`case` and every table that refers to it (directly or through another), children first."""
    from engine.models import Base

    found = {"case"}
    for table in Base.metadata.sorted_tables:
        if any(fk.column.table.name in found for fk in table.foreign_keys):
            found.add(table.name)
    return [t for t in reversed(Base.metadata.sorted_tables) if t.name in found]


def run(label: str, url: str, registry, cases: int, open_cases: int, due: int, fresh_schema=None) -> dict:
    db = make_engine(url) if fresh_schema is None else fresh_schema
    create_schema(db)
    sessions = make_session_factory(db)
    clock = FakeClock(START)
    runtime = CaseRuntime(registry, clock)
    result = {"label": label, **persisted(runtime, sessions, cases), "bytes": stored_bytes(sessions),
              "rollup": rollup_hook_cost(runtime, sessions, cases)}
    if open_cases:
        sweep_db = make_engine(url) if fresh_schema is None else fresh_schema
        with sweep_db.begin() as conn:
            for table in _case_tables():
                conn.execute(table.delete())
        result["sweep"] = sweep_benchmark(runtime, sessions, clock, open_cases, due)
    return result


def postgres_schema_engine(url: str):
    schema = f"bench_{int(time.time())}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return create_engine(admin.url, connect_args={"options": f"-csearch_path={schema}"}), admin, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--open-cases", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()

    registry = ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))
    bare_spiff(registry, 5)  # warm-up: imports, caches
    bare = bare_spiff(registry, args.cases)
    results = []
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run("SQLite (file, WAL)", f"sqlite:///{tmp}/bench.sqlite", registry, args.cases,
                               args.open_cases, args.due))
    if args.postgres:
        engine, admin, schema = postgres_schema_engine(args.postgres)
        try:
            results.append(run("PostgreSQL 15 (loopback)", args.postgres, registry, args.cases, args.open_cases,
                               args.due, fresh_schema=engine))
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    report(bare, results, args)


def report(bare: float, results: list[dict], args) -> None:
    print(f"## Engine benchmark — {datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    print(f"{args.cases} cases × {len(SUCCESS_PATH)} completions (邻里 success path).\n")
    print("| mode | ms per completion | × bare |")
    print("|---|---|---|")
    print(f"| bare SpiffWorkflow, in memory, nothing saved (baseline) | {bare * 1000:.2f} | 1.00 |")
    for r in results:
        print(f"| {r['label']}: load → complete → save, one transaction | {r['per_completion'] * 1000:.2f} | "
              f"{r['per_completion'] / bare:.2f} |")
    for r in results:
        print(f"\n{r['label']} split per completion (ms): " + ", ".join(
            f"{phase} {seconds * 1000:.2f}" for phase, seconds in r["phases"].items()))
        b = r["bytes"]
        print(f"stored: workflow state {b['state_per_case'] / 1024:.1f} KiB per finished case; spec "
              f"{b['spec_once'] / 1024:.1f} KiB once; {b['events_per_case']:.0f} events per case")
        hook = r["rollup"]
        print(f"rollup hook: {hook['without'] * 1000:.2f} ms per completion without it, {hook['with'] * 1000:.2f} "
              f"with it ({hook['with'] / hook['without']:.2f}×)")
        if "sweep" in r:
            s = r["sweep"]
            print(f"sweep: idle {s['idle_small_ms']:.2f} ms with {s['open_small']} open cases, "
                  f"{s['idle_large_ms']:.2f} ms with {s['open_large']} (ratio {s['idle_large_ms'] / s['idle_small_ms']:.2f}); "
                  f"{s['due']} due timers fired in {s['due_sweep_s']:.2f} s ({s['per_fired_ms']:.1f} ms each)")


if __name__ == "__main__":
    main()
