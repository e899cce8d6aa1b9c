"""`fengqiao versions | publish | rollback | sync-versions`: process versions from the command line."""
from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def add_parsers(commands) -> None:
    versions = commands.add_parser("versions", help="which version of each category is in force for a jurisdiction")
    versions.add_argument("jurisdiction", nargs="?", default="", help="行政区划代码 (default: the base)")

    publish = commands.add_parser("publish", help="publish a category as processes/ defines it now")
    publish.add_argument("category")
    publish.add_argument("--jurisdiction", default="", help="a jurisdiction with a variant (default: the base)")
    publish.add_argument("--reason", required=True, help="why (shown with the version)")
    publish.add_argument("--by", default=None, help="who publishes (default: your login name)")

    rollback = commands.add_parser("rollback", help="withdraw a version so the one before it is in force again")
    rollback.add_argument("version_id", type=int)
    rollback.add_argument("--reason", required=True)
    rollback.add_argument("--by", default=None)

    commands.add_parser("sync-versions", help="publish what changed in processes/ (as `serve` does at start)")


HANDLERS = {}


def _handler(name):
    def register(function):
        HANDLERS[name] = function
        return function
    return register


@_handler("versions")
def versions(args) -> int:
    from engine.versions import label, versions_in_force

    with _engine() as (session, registry, _clock):
        rows = versions_in_force(session, registry, args.jurisdiction)
        print(f"{label(session, registry, args.jurisdiction)}：各类别现行流程版本")
        print(format_in_force(rows))
    return 0


def format_in_force(rows) -> str:
    """One line per category: name, version, where it comes from, hash, who, when, why."""
    from engine.calendar import SHANGHAI

    lines = []
    for row in rows:
        version = row.version
        if version is None:
            lines.append(f"{row.category_name}（{row.category_code}）  未发布  —  运行 fengqiao sync-versions")
            continue
        when = version.published_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        note = "  [processes/ 与现行版本不同，未发布]" if row.files_differ else ""
        lines.append(f"{row.category_name}（{row.category_code}）  v{version.number}  来源：{row.source_label}  "
                     f"{version.spec_hash[:12]}  {version.published_by} {when}  {version.reason}{note}")
    return "\n".join(lines)


@_handler("publish")
def publish(args) -> int:
    from engine.errors import EngineError
    from engine.versions import label, publish as publish_version

    with _engine() as (session, registry, clock):
        try:
            row = publish_version(session, registry, args.category, args.jurisdiction, args.by or _login(),
                                  args.reason, "files", now=clock.now())
        except EngineError as exc:
            print(f"not published: {exc}", file=sys.stderr)
            return 1
        session.commit()
        print(f"{row.category_name} v{row.number}（{label(session, registry, row.jurisdiction_code)}） "
              f"{row.spec_hash[:12]} id={row.id}")
    return 0


@_handler("rollback")
def rollback(args) -> int:
    from engine.errors import EngineError
    from engine.versions import in_force, label, rollback as rollback_version

    with _engine() as (session, registry, clock):
        try:
            row = rollback_version(session, args.version_id, args.by or _login(), args.reason, now=clock.now())
        except EngineError as exc:
            print(f"not rolled back: {exc}", file=sys.stderr)
            return 1
        session.commit()
        now_in_force = in_force(session, row.category_code, row.jurisdiction_code)
        print(f"withdrew {row.category_name} v{row.number}（{label(session, registry, row.jurisdiction_code)}）; "
              f"in force there now: v{now_in_force.number}（{label(session, registry, now_in_force.jurisdiction_code)}）")
    return 0


@_handler("sync-versions")
def sync_versions(args) -> int:
    from engine.versions import sync_at_startup

    with _engine() as (session, registry, clock):
        count = sync_at_startup(session, registry, clock.now())
    print(f"published {count} new versions from processes/")
    return 0


@contextmanager
def _engine():
    """A session on the configured database, the registry of processes/ and the system clock."""
    from engine.clock import SystemClock
    from engine.db import create_schema, make_engine, make_session_factory
    from web import default_config

    engine = make_engine(default_config()["SQLALCHEMY_DATABASE_URI"])
    create_schema(engine)
    registry = load_registry()
    session = make_session_factory(engine)()
    try:
        yield session, registry, SystemClock()
    finally:
        session.close()
        engine.dispose()


def load_registry():
    """processes/ and forms/ of this checkout."""
    from engine.forms import FormLibrary
    from engine.registry import ProcessRegistry

    return ProcessRegistry(PROJECT_ROOT / "processes", FormLibrary(PROJECT_ROOT / "forms"))


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"
