"""Benchmark: the cockpit at a province's scale (issue 7: ≤ 300 ms at the 95th percentile).

    .venv/bin/python -m bench.bench_cockpit [--runs 30] [--schema bench_province] [--cases 1000000]

Runs on the province bench/generate_province.py builds in PostgreSQL (generated first if the schema
does not hold --cases cases). Measures, each --runs times after two warm-up runs, in a fresh session
per run as a web request would have, for the latest full month before the generated "now":
- baseline: SELECT count(*) of the cases received that month (one index range scan);
- the board (engine/cockpit_board.board) of the province, a city (包头市) and a county (九原区), each
  read by a manager of that jurisdiction; the province's and the city's for the last full week, and
  the province's for a range across a month boundary (read from the daily rollup);
- the node-timer list's first page, province scope, soonest due first (engine/cockpit_timers);
- the heatmap of the largest category, province scope (engine/cockpit_heatmap).
Prints p50 and p95 in ms and each as a multiple of the baseline; docs/PERFORMANCE.md records them.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import timedelta

from sqlalchemy import func, select, text

from bench.generate_province import (DEFAULT_SCHEMA, GENERATED_NOW, PROVINCE, database_url, generate,
                                     schema_engine)
from engine.actors import Actor
from engine.cockpit_board import board
from engine.cockpit_heatmap import heatmap
from engine.cockpit_metrics import Period, month_of, week_of
from engine.cockpit_timers import TimerFilter, node_timers
from engine.db import make_session_factory
from engine.models import Case

CITY, COUNTY = "150200", "150207"
TARGET_MS = 300.0


def timings(sessions, action, runs: int) -> list[float]:
    """Milliseconds of `action(session)` over `runs` runs after two warm-up runs, a new session each."""
    result = []
    for index in range(runs + 2):
        with sessions() as session:
            started = time.perf_counter()
            action(session)
            elapsed = (time.perf_counter() - started) * 1000
        if index >= 2:
            result.append(elapsed)
    return result


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def measure(sessions, runs: int) -> tuple[dict[str, list[float]], dict[str, str]]:
    now = GENERATED_NOW
    period = month_of(now.date().replace(day=1) - timedelta(days=1))
    week = week_of(now.date() - timedelta(days=7))
    span = Period("range", period.first + timedelta(days=9), now.date() - timedelta(days=1))  # the 10th to yesterday
    with sessions() as session:
        largest = session.execute(select(Case.category_code, func.count()).group_by(Case.category_code)
                                  .order_by(func.count().desc()).limit(1)).one()[0]
    managers = {code: Actor.of(f"manager-{code}", {"manager"}, code) for code in (PROVINCE, CITY, COUNTY)}
    received = select(func.count()).select_from(Case).where(Case.created_at >= period.start,
                                                           Case.created_at < period.end)
    cases = {
        "baseline: count(*) of the month's received cases": lambda s: s.scalar(received),
        f"board, province {PROVINCE}": lambda s: board(s, managers[PROVINCE], PROVINCE, period, now),
        f"board, city {CITY}": lambda s: board(s, managers[CITY], CITY, period, now),
        f"board, county {COUNTY}": lambda s: board(s, managers[COUNTY], COUNTY, period, now),
        # Not whole months: the daily rollup answers the days (engine/cockpit_rollup.py).
        f"board, province {PROVINCE}, last full week": lambda s: board(s, managers[PROVINCE], PROVINCE, week, now),
        f"board, city {CITY}, last full week": lambda s: board(s, managers[CITY], CITY, week, now),
        f"board, province {PROVINCE}, range {span.key}": lambda s: board(s, managers[PROVINCE], PROVINCE, span, now),
        "node timers, first page, province, by due": lambda s: node_timers(s, managers[PROVINCE],
                                                                           TimerFilter(PROVINCE), now),
        f"heatmap, {largest}, province": lambda s: heatmap(s, managers[PROVINCE], largest, PROVINCE, period, now),
    }
    context = {"period": period.key, "now": now.isoformat(), "largest category": largest}
    return {name: timings(sessions, action, runs) for name, action in cases.items()}, context


def report(results: dict[str, list[float]], context: dict[str, str], runs: int, machine: str) -> str:
    baseline = next(iter(results.values()))
    base50, base95 = statistics.median(baseline), p95(baseline)
    lines = [f"Machine: {machine}; {runs} runs each; period {context['period']}, now {context['now']}.", "",
             "| query | p50 ms | p95 ms | p50 × baseline | p95 × baseline | ≤ 300 ms p95 |",
             "|---|---|---|---|---|---|"]
    for name, values in results.items():
        m50, m95 = statistics.median(values), p95(values)
        lines.append(f"| {name} | {m50:.1f} | {m95:.1f} | {m50 / base50:.1f} | {m95 / base95:.1f} | "
                     f"{'yes' if m95 <= TARGET_MS else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    url = database_url()
    generate(url, args.schema, args.cases)
    engine = schema_engine(url, args.schema)
    with engine.connect() as conn:
        server = conn.execute(text("SHOW server_version")).scalar()
    machine = (f"{platform.node()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
               f"PostgreSQL {server}")
    results, context = measure(make_session_factory(engine), args.runs)
    print(report(results, context, args.runs, machine))
    engine.dispose()


if __name__ == "__main__":
    main()
