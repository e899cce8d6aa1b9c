"""Benchmark: registering a case through the channel API against registering it at the window.

    .venv/bin/python -m bench.bench_intake [--cases 100] [--postgres URL]

Measures, in one run on one machine (per case, median of the run):
- window registration: CaseRuntime.start_case as the clerk's page calls it (baseline);
- channel submission through the engine: token check, reference claim, the same registration;
- the whole HTTP request: POST /api/v1/cases through Flask (JSON Schema validation, the answer);
- an idempotent re-send of a reference already registered (the same case comes back);
- delivering result notifications to a callback receiver in the same process (no network).
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

from sqlalchemy import create_engine, text

from engine import channels, jurisdictions
from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.callbacks import deliver_due
from engine.clock import FakeClock
from engine.db import create_schema, make_engine, make_session_factory
from engine.forms import FormLibrary
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "150207"
CLERK = Actor.of("bench", frozenset({"clerk", "analyst", "mediator", "director"}), COUNTY)
INTAKE = {"title": "楼上漏水", "summary": "楼上卫生间漏水致楼下受损。", "channel": "walk_in",
          "applicant_name": "张伟", "applicant_phone": "13904720001"}


def submission(index: int) -> dict:
    return {"reference": f"GD{index:08d}", "category": "neighbour", "jurisdiction": COUNTY, "title": "楼上漏水",
            "facts": "楼上卫生间漏水致楼下受损。", "applicant": {"name": "张伟", "phone": f"139{index:08d}"}}


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(sessions, registry, clock, cases: int) -> dict[str, float]:
    runtime = CaseRuntime(registry, clock)
    with sessions() as session:
        jurisdictions.save(session, COUNTY, "九原区", "county", None, "九原区综治中心")
        channel = channels.create_channel(session, "bench", "基准渠道", "hotline_12345", "bench", clock.now())
        channel.callback_url = "http://receiver.invalid/hook"
        _token, plain = channels.issue_token(session, channel, COUNTY, "bench", clock.now())
        session.commit()
    runtime.start_case(sessions(), "neighbour", dict(INTAKE), COUNTY, CLERK)  # warm: version published, caches
    window, channel_ms, replay = [], [], []
    for index in range(cases):
        with sessions() as session:
            window.append(_timed(lambda: runtime.start_case(session, "neighbour", dict(INTAKE), COUNTY, CLERK)))
        with sessions() as session:
            def send():
                principal = channels.authenticate(session, plain, clock.now())
                channels.submit(session, runtime, principal, submission(index))
            channel_ms.append(_timed(send))
        with sessions() as session:
            def resend():
                principal = channels.authenticate(session, plain, clock.now())
                channels.submit(session, runtime, principal, submission(index))
            replay.append(_timed(resend))
    # Results to deliver: accept every channel case (one `accepted` notification each).
    from engine.models import Case, HumanTask
    from sqlalchemy import select

    with sessions() as session:
        accept_ids = session.scalars(select(HumanTask.id).join(Case, Case.id == HumanTask.case_id).where(
            Case.channel_id.is_not(None), HumanTask.state == "ready", HumanTask.element_id == "accept")).all()
    for task_id in accept_ids:
        with sessions() as session:
            runtime.complete_task(session, task_id, {"accepted": True}, CLERK)
    received = []
    started = time.perf_counter()
    while True:
        result = deliver_due(sessions, clock, transport=lambda url, body, headers, timeout: received.append(body) or 200)
        if not result.delivered:
            break
    delivery = (time.perf_counter() - started) * 1000 / max(len(received), 1)
    return {"window": statistics.median(window), "channel": statistics.median(channel_ms),
            "replay": statistics.median(replay), "delivery": delivery, "delivered": len(received)}


def http_submissions(cases: int, database_url: str) -> float:
    """Median ms of POST /api/v1/cases through the Flask app (test client, no network)."""
    from web import create_app
    from web.extensions import db
    from web.services import services

    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock, "SECRET_KEY": "bench",
                      "API_RATE_LIMIT": "1000000 per minute"})
    with app.app_context():
        jurisdictions.save(db.session, COUNTY, "九原区", "county", None, "九原区综治中心")
        channel = channels.create_channel(db.session, "bench-http", "基准渠道", "hotline_12345", "bench",
                                          services().clock.now())
        _token, plain = channels.issue_token(db.session, channel, COUNTY, "bench", services().clock.now())
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {plain}"}
    client.post("/api/v1/cases", json=submission(10 ** 7), headers=headers)  # warm
    times = []
    for index in range(cases):
        body = submission(index)
        times.append(_timed(lambda: client.post("/api/v1/cases", json=body, headers=headers)))
    return statistics.median(times)


def _sqlite(tmp: Path):
    engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite'}")
    create_schema(engine)
    return engine


def _postgres(url: str, schema: str):
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(admin.url, connect_args={"options": f"-csearch_path={schema}"})
    create_schema(engine)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--postgres", help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    registry = ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))
    print(f"# Intake benchmark — {platform.node()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {datetime.now():%Y-%m-%d %H:%M}, {args.cases} cases\n")
    print("| database | window start_case (baseline) | channel submit (engine) | ratio | re-send | "
          "HTTP POST /api/v1/cases | ratio | callback delivery per notification |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", _sqlite(Path(tmp)), f"sqlite:///{Path(tmp) / 'http.sqlite'}")]
        if args.postgres:
            targets.append(("PostgreSQL", _postgres(args.postgres, "bench_intake"), None))
        for name, engine, url in targets:
            clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
            figures = measure(make_session_factory(engine), registry, clock, args.cases)
            base = figures["window"]
            # The HTTP layer is the same on either database; it is measured on SQLite only, so the
            # benchmark never writes outside its own schema on a shared PostgreSQL server.
            http = http_submissions(args.cases, url) if name == "SQLite" else None
            http_cells = f"{http:.2f} ms | {http / base:.2f}×" if http is not None else "— | —"
            print(f"| {name} | {base:.2f} ms | {figures['channel']:.2f} ms | {figures['channel'] / base:.2f}× | "
                  f"{figures['replay']:.2f} ms | {http_cells} | "
                  f"{figures['delivery']:.2f} ms ({figures['delivered']} delivered) |")
            engine.dispose()



if __name__ == "__main__":
    main()
