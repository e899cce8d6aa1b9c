"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), registry, fake clock."""
from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.clock import FakeClock
from engine.db import create_schema, make_engine, make_session_factory
from engine.forms import FormLibrary
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime

ROOT = Path(__file__).resolve().parent.parent
PG_URL_VARIABLE = "FENGQIAO_TEST_DATABASE_URL"
ALL_ROLES = frozenset({"clerk", "analyst", "mediator", "director", "manager"})


def postgres_url() -> str | None:
    return os.environ.get(PG_URL_VARIABLE)


@pytest.fixture(scope="session")
def registry() -> ProcessRegistry:
    registry = ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))
    assert not registry.report.errors, "\n".join(map(str, registry.report.errors))
    return registry


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2 March 2026, 09:00 in Baotou: an ordinary working week.
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_engine(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a private schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'cases.sqlite'}")
        create_schema(engine)
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    if not url:
        pytest.skip(f"PostgreSQL tests skipped: set {PG_URL_VARIABLE} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(admin.url, connect_args={"options": f"-csearch_path={schema}"})
    create_schema(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sessions(db_engine):
    return make_session_factory(db_engine)


@pytest.fixture
def cli_database(tmp_path, monkeypatch):
    """The database the `fengqiao` command configures (FENGQIAO_DATABASE_URL) as a fresh SQLite file
    holding 九原区; yields a session maker on it."""
    from engine import jurisdictions

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", url)
    engine = make_engine(url)
    create_schema(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        jurisdictions.save(session, "150207", "九原区", "county", None, "九原区综治中心")
        session.commit()
    yield sessions
    engine.dispose()


@pytest.fixture
def runtime(registry, clock) -> CaseRuntime:
    return CaseRuntime(registry, clock)


@pytest.fixture
def staff() -> Actor:
    """A 九原区 user holding every handling role."""
    return Actor.of("staff", ALL_ROLES, "150207", "九原区综治中心")


# -- BPMN element coverage (see tests/bpmn_coverage.py) ---------------------------------------------

from tests import bpmn_coverage  # noqa: E402

bpmn_coverage.install()


def pytest_sessionfinish(session, exitstatus):
    if not bpmn_coverage.reached:
        return
    text, missing = bpmn_coverage.report()
    bpmn_coverage.REPORT.write_text(text, encoding="utf-8")
    session.config._bpmn_coverage = (text.splitlines()[0], missing)
    if missing and bpmn_coverage.strict() and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    summary = getattr(config, "_bpmn_coverage", None)
    if summary is None:
        return
    header, missing = summary
    terminalreporter.write_sep("-", header + f" (report: {bpmn_coverage.REPORT.name})")
    for line in missing[:50]:
        terminalreporter.write_line(f"not reached: {line}")
    if missing and bpmn_coverage.strict():
        terminalreporter.write_line(f"{bpmn_coverage.STRICT_VARIABLE}=1: every BPMN element must be reached")
