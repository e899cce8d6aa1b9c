"""Benchmark: what a designer waits for — lint on save, compare, simulation — against loading
processes/ the way `fengqiao check` does.

    .venv/bin/python -m bench.bench_designer [--runs 7]

Measures, in one run on one machine (median of the runs), for a draft of 邻里纠纷 at 九原区:
- loading and checking every category of processes/ (ProcessRegistry, what `fengqiao check` runs): baseline;
- saving the draft: save_draft, whose lint writes the draft into a temporary tree and loads it;
- comparing the draft with the version in force;
- simulating the draft path by path (engine/draft_simulation.simulate, every reachable element).
Prints a Markdown report; docs/PERFORMANCE.md records the figures.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from engine import jurisdictions
from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.clock import FakeClock
from engine.db import create_schema, make_engine, make_session_factory
from engine.draft_simulation import simulate
from engine.drafts import compare, open_draft, save_draft
from engine.forms import FormLibrary
from engine.registry import ProcessRegistry

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "150207"
DESIGNER = Actor.of("bench", frozenset({"designer"}), COUNTY)


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(runs: int) -> dict[str, float]:
    load = lambda: ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))  # noqa: E731
    registry = load()
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        create_schema(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            jurisdictions.save(session, COUNTY, "九原区", "county", None, "九原区综治中心")
            draft = open_draft(session, registry, "neighbour", COUNTY, DESIGNER, clock.now())
            session.commit()
            files = {name: text.replace('name="分析研判"', 'name="风险研判"') for name, text in draft.files.items()}
            times: dict[str, list[float]] = {"check": [], "save": [], "compare": [], "simulate": []}
            for _ in range(runs):
                times["check"].append(_timed(load))
                revision = session.get(type(draft), draft.id).revision
                times["save"].append(_timed(lambda: save_draft(session, registry, draft.id, files, revision, DESIGNER,
                                                               clock.now())))
                session.commit()
                times["compare"].append(_timed(lambda: compare(session, registry, draft.id)))
                times["simulate"].append(_timed(lambda: simulate(session, registry, "neighbour", COUNTY, files,
                                                                 start=clock.now())))
        engine.dispose()
    return {key: statistics.median(values) for key, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    result = measure(args.runs)
    base = result["check"]
    print(f"Designer, {platform.node()} ({platform.machine()}), {datetime.now():%Y-%m-%d}, median of {args.runs} runs\n")
    print("| step | median | ratio to `fengqiao check` |\n|---|---|---|")
    names = {"check": "load and check processes/ (baseline)", "save": "save a draft (lint)",
             "compare": "compare with the version in force", "simulate": "simulate every path"}
    for key, name in names.items():
        print(f"| {name} | {result[key]:.0f} ms | {result[key] / base:.2f}× |")


if __name__ == "__main__":
    main()
