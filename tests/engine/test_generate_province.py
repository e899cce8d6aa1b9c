"""The province generator (bench/generate_province.py) stays in step with the models: 2,000 generated
cases load through the ORM, carry the categories' real user tasks, every model index exists after
loading, the cockpit's queries run on them, and a second run keeps the schema."""
from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from bench.generate_province import GENERATED_NOW, PROVINCE, generate, schema_engine
from engine.actors import Actor
from engine.cockpit_board import CHANNEL_NAMES, board
from engine.cockpit_heatmap import heatmap
from engine.cockpit_metrics import month_of
from engine.cockpit_timers import TimerFilter, node_timers
from engine.db import make_session_factory
from engine.models import Base, Case, CaseEvent, HumanTask
from tests.conftest import postgres_url

CASES = 2000


@pytest.fixture(scope="module")
def province(registry):
    url = postgres_url()
    if not url:
        pytest.skip("needs PostgreSQL: set FENGQIAO_TEST_DATABASE_URL")
    schema = f"t_gen_{uuid.uuid4().hex[:10]}"
    assert generate(url, schema, CASES, out=lambda *_: None) is True
    engine = schema_engine(url, schema)
    yield url, schema, make_session_factory(engine)
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_generated_cases_read_through_the_models_with_their_categories_tasks(province, registry):
    _, _, sessions = province
    with sessions() as session:
        cases = session.scalars(select(Case)).all()
        assert len(cases) == CASES
        assert {c.intake_channel for c in cases} <= set(CHANNEL_NAMES)
        assert {c.status for c in cases} == {"open", "concluded", "terminated"}
        open_share = sum(c.status == "open" for c in cases) / CASES
        assert 0.04 < open_share < 0.14
        assert all(c.outcome in ("resolved", "unresolved", "rejected") for c in cases if c.status != "open")
        tasks = session.scalars(select(HumanTask)).all()
        assert 5 < len(tasks) / CASES < 10
        for task in tasks:
            assert task.element_id in registry.category(task.category_code).bundle.tasks
        ready = {t.case_id for t in tasks if t.state == "ready"}
        assert ready == {c.id for c in cases if c.status == "open"}
        assert all(t.completed_at >= t.created_at for t in tasks if t.state == "completed")
        assert all(c.closed_at <= GENERATED_NOW for c in cases if c.closed_at)
        assert session.scalar(select(func.count()).select_from(CaseEvent)) >= 2 * CASES


def test_every_model_index_exists_after_loading(province):
    url, schema, _ = province
    with psycopg.connect(url) as conn:
        present = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,))}
    for table in ("case", "human_task", "case_event"):
        for index in Base.metadata.tables[table].indexes:
            assert index.name in present, index.name


def test_the_cockpit_reads_the_generated_province(province):
    _, _, sessions = province
    manager = Actor.of("province", {"manager"}, PROVINCE)
    period = month_of(GENERATED_NOW.date().replace(day=1) - timedelta(days=1))
    with sessions() as session:
        result = board(session, manager, PROVINCE, period, GENERATED_NOW)
        assert result.totals["received"] > 0 and result.totals["open"] > 0
        assert len(result.groups["place"]) > 1  # the cities
        page = node_timers(session, manager, TimerFilter(PROVINCE), GENERATED_NOW)
        assert page.total >= result.totals["open"]  # every open case waits at one task or two
        assert page.rows[0].due_at <= page.rows[-1].due_at
        nodes = heatmap(session, manager, "neighbour", PROVINCE, period, GENERATED_NOW)
        assert nodes and all(n.median_hours is None or n.p90_hours >= n.median_hours for n in nodes.values())


def test_a_second_run_keeps_a_schema_that_holds_the_cases(province):
    url, schema, _ = province
    assert generate(url, schema, CASES, out=lambda *_: None) is False
