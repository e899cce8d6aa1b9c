"""The `fengqiao` command: check definitions, run the app, run the scheduler, seed demo data."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from . import channels_cli, ledger_cli, org_cli, stats_cli, versions_cli

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fengqiao", description="枫桥 case handling for 综治中心")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="lint every process definition and form; exit 1 on errors")
    check.add_argument("processes", nargs="?", default=str(PROJECT_ROOT / "processes"))
    check.add_argument("--forms", default=None, help="forms folder (default: ../forms beside processes)")

    serve = commands.add_parser("serve", help="run the web app with the timer scheduler inside")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("FENGQIAO_PORT", "5000")))
    serve.add_argument("--no-scheduler", action="store_true", help="do not sweep timers in this process")

    commands.add_parser("scheduler", help="sweep due timers forever (run beside `serve --no-scheduler`)")

    demo = commands.add_parser("demo", help="create demo users and cases in the configured database")
    demo.add_argument("--reset", action="store_true", help="drop every table first (SQLite demo only)")

    commands.add_parser("init-db", help="create missing tables")

    calendar = commands.add_parser("calendar", help="working-day calendar overrides")
    calendar_commands = calendar.add_subparsers(dest="calendar_command", required=True)
    set_day = calendar_commands.add_parser("set", help="declare a day a working day or a rest day")
    set_day.add_argument("day", type=date.fromisoformat)
    set_day.add_argument("kind", choices=["work", "rest"])
    set_day.add_argument("--note", default="")
    set_day.add_argument("--jurisdiction", default="", help="rule for this jurisdiction and below (default: everywhere)")
    calendar_commands.add_parser("recompute", help="recompute provisional deadlines with the current calendar")
    versions_cli.add_parsers(commands)
    org_handlers = org_cli.add_commands(commands)
    ledger_handlers = ledger_cli.add_commands(commands)
    channel_handlers = channels_cli.add_commands(commands)
    stats_handlers = stats_cli.add_commands(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # SpiffWorkflow logs every task state change at INFO; that drowns what an operator needs.
    logging.getLogger("spiff").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    handler = {
        "check": _check, "serve": _serve, "scheduler": _scheduler, "demo": _demo, "init-db": _init_db,
        "calendar": _calendar, **versions_cli.HANDLERS, **org_handlers, **ledger_handlers, **channel_handlers,
        **stats_handlers,
    }[args.command]
    return handler(args) or 0


def _check(args) -> int:
    from engine.forms import FormLibrary
    from engine.registry import ProcessRegistry

    processes = Path(args.processes)
    forms = Path(args.forms) if args.forms else processes.resolve().parent / "forms"
    if not processes.is_dir():
        print(f"{processes}: not a folder", file=sys.stderr)
        return 2
    registry = ProcessRegistry(processes, FormLibrary(forms))
    report = registry.report
    for problem in report.problems:
        print(f"{problem.severity}: {problem}")
    errors = len(report.errors)
    warnings = len(report.problems) - errors
    print(f"{len(report.categories)} categories loaded ({', '.join(sorted(report.categories)) or 'none'}); "
          f"{errors} errors, {warnings} warnings")
    return 1 if errors else 0


def _serve(args) -> int:
    from web import create_app

    from waitress import serve

    app = create_app({"RUN_SCHEDULER": not args.no_scheduler})
    print(f"枫桥 is running at http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    _print_demo_logins(app)
    serve(app, host=args.host, port=args.port, threads=8)
    return 0


def _scheduler(args) -> int:
    from engine.clock import SystemClock
    from engine.db import make_engine, make_session_factory
    from engine.forms import FormLibrary
    from engine.registry import ProcessRegistry
    from engine.runtime import CaseRuntime
    from engine.scheduler import run_blocking
    from web import default_config

    url = default_config()["SQLALCHEMY_DATABASE_URI"]
    registry = ProcessRegistry(PROJECT_ROOT / "processes", FormLibrary(PROJECT_ROOT / "forms"))
    runtime = CaseRuntime(registry, SystemClock())
    print(f"sweeping due timers and delivering channel results in {url.split('@')[-1]} every 15 s", flush=True)
    run_blocking(make_session_factory(make_engine(url)), runtime)
    return 0


def _init_db(args) -> int:
    from web import create_app

    create_app()
    print("tables are in place")
    return 0


def _demo(args) -> int:
    from web import create_app
    from web.extensions import db

    from .demo import seed_demo

    app = create_app()
    with app.app_context():
        if args.reset:
            if db.engine.dialect.name != "sqlite":
                print("--reset only drops tables of the embedded SQLite demo database", file=sys.stderr)
                return 2
            db.drop_all()
            db.create_all()
            from engine.versions import sync_at_startup

            sync_at_startup(db.session, app.extensions["fengqiao"].registry, app.extensions["fengqiao"].clock.now())
        summary = seed_demo(db.session, app.extensions["fengqiao"])
    print(summary)
    return 0


def _calendar(args) -> int:
    from engine.calendar_store import set_override
    from web import create_app
    from web.extensions import db

    app = create_app()
    services = app.extensions["fengqiao"]
    with app.app_context():
        if args.calendar_command == "set":
            set_override(db.session, args.day, args.kind == "work", args.note, "cli", services.clock.now(),
                         args.jurisdiction)
            db.session.commit()
            print(f"{args.day}: {'工作日' if args.kind == 'work' else '休息日'}")
        count = services.runtime.recompute_provisional_deadlines(db.session)
        print(f"recomputed provisional deadlines of {count} cases")
    return 0


def _print_demo_logins(app) -> None:
    from .demo import DEMO_PASSWORD, DEMO_USERS

    print("demo logins (password for all: %s):" % DEMO_PASSWORD)
    for username, display_name, _roles, jurisdiction in DEMO_USERS:
        print(f"  {username:<10} {display_name}（{jurisdiction}）")


if __name__ == "__main__":
    sys.exit(main())
