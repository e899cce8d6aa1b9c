"""The rollup (case_month_stat, case_day_stat) behind the province and city boards: the same five 九原区 cases
as the board test, plus writers outside the runtime (a case closed by hand in April, a recoloured
risk, a second flush in one transaction) — the rollup the flush hook kept equals one rebuilt from the
cases, and a city or province manager's board read from it equals, number for number, the board read
from the cases."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.case_rollup import ROLLUP_COUNTS, rebuild, rebuild_if_empty
from engine.clock import FakeClock
from engine.cockpit_board import board
from engine.cockpit_metrics import COUNTS, parse_period
from engine.cockpit_rollup import rollup_applies
from engine.models import Case, CaseDayStat, CaseMonthStat
from fengqiao.cli import main
from fengqiao.demo import seed_demo
from tests.engine.test_cockpit_board import month  # noqa: F401  (the fixture of five cases)
from web import create_app
from web.extensions import db

CITY = Actor.of("city", {"manager"}, "150200", "包头市委政法委")
PROVINCE = Actor.of("province", {"manager"}, "150000", "自治区党委政法委")
PERIODS = ("2026-03", "2026-04", "2026-Q1", "2026-Q2", "2026", "2026-03-01..2026-04-30", "2026-W10", "2026-W11",
           "2026-03-10..2026-04-20", "2026-02-25..2026-04-30", "2026-03-14..2026-03-14", "2026-03-02..2026-03-30",
           "2026-03-12..2026-04-25")


@pytest.fixture
def written_by_hand(sessions, clock, month):  # noqa: F811
    """Other writers than the runtime change the columns the counts read, straight through the ORM."""
    with sessions() as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        open_case = next(c for c in cases if c.status == "open")
        open_case.status, open_case.closed_at = "concluded", clock.now() + timedelta(days=20)  # closed in April
        open_case.outcome, open_case.performed, open_case.satisfaction = "resolved", True, "dissatisfied"
        cases[1].risk_color, cases[1].second_supervision_count = "红", 2
        session.flush()
        cases[1].handling_level = "county"  # a second flush in the same transaction
        session.commit()


def _table(session) -> dict:
    """Both grains' non-zero rows: {(first day column, key…): counts}."""
    result = {}
    for stat, start in ((CaseMonthStat, CaseMonthStat.month), (CaseDayStat, CaseDayStat.day)):
        key = (start, stat.reg_county, stat.handling_county, stat.dimension, stat.value)
        rows = session.execute(select(*key, *(getattr(stat, c) for c in ROLLUP_COUNTS))).all()
        result.update({(start.key, *row[:5]): tuple(row[5:]) for row in rows if any(row[5:])})
    return result


def test_the_rollup_counts_exactly_the_in_period_counts(sessions):
    assert set(ROLLUP_COUNTS) == {key for key, c in COUNTS.items() if c.in_period}


def test_the_rollup_kept_on_every_write_equals_one_rebuilt_from_the_cases(sessions, written_by_hand):
    with sessions() as session:
        kept = _table(session)
        for stat in (CaseMonthStat, CaseDayStat):
            assert session.scalar(select(func.sum(stat.received)).where(stat.dimension == "total")) == 5
        rebuild(session)
        assert _table(session) == kept
        session.rollback()


@pytest.mark.parametrize("actor", [CITY, PROVINCE], ids=["city", "province"])
def test_the_board_from_the_rollup_equals_the_board_from_the_cases(sessions, clock, written_by_hand, actor):
    now = clock.now() + timedelta(days=40)
    scope = actor.jurisdictions()[0]
    for key in PERIODS:
        period = parse_period(key, now)
        assert rollup_applies(actor, scope, period), key
        with sessions() as session:
            fast = board(session, actor, scope, period, now)
            direct = board(session, actor, scope, period, now, rollup=False)
        assert fast.totals == direct.totals, key
        assert (fast.previous, fast.year_before) == (direct.previous, direct.year_before), key
        for dimension, groups in direct.groups.items():
            assert {g.value: g.counts for g in fast.groups[dimension]} == {g.value: g.counts for g in groups}, \
                (key, dimension)
    april = board_of(sessions, actor, scope, "2026-04", now)
    assert (april.totals["closed"], april.totals["resolved"], april.totals["performed"]) == (1, 1, 1)
    assert {g.value for g in april.groups["place"]} == {"1502" if scope == "150000" else "150207"}


def board_of(sessions, actor, scope, key, now):
    with sessions() as session:
        return board(session, actor, scope, parse_period(key, now), now)


def test_a_period_is_read_as_whole_months_and_the_days_around_them(clock):
    from engine.cockpit_rollup import period_parts

    def parts(key):
        return [(part.table.__tablename__, str(part.first), str(part.last), part.sign)
                for part in period_parts(parse_period(key, clock.now()))]

    monthly, daily = "case_month_stat", "case_day_stat"
    assert parts("2026-03") == [(monthly, "2026-03-01", "2026-03-01", 1)]
    assert parts("2026") == [(monthly, "2026-01-01", "2026-12-01", 1)]
    assert parts("2026-W10") == [(daily, "2026-03-02", "2026-03-08", 1)]
    assert parts("2026-02-25..2026-04-30") == [(daily, "2026-02-25", "2026-02-28", 1),
                                               (monthly, "2026-03-01", "2026-04-01", 1)]
    # Most of March and a few days of May: March less its first nine days, May's days as they are.
    assert parts("2026-03-10..2026-05-05") == [(monthly, "2026-03-01", "2026-03-01", 1),
                                               (daily, "2026-03-01", "2026-03-09", -1),
                                               (monthly, "2026-04-01", "2026-04-01", 1),
                                               (daily, "2026-05-01", "2026-05-05", 1)]
    # Days after today hold no rows: the 5th of this month to yesterday is the month less four days
    # (and the days from today on, nearly all empty).
    assert [(p.table.__tablename__, str(p.first), str(p.last), p.sign)
            for p in period_parts(parse_period("2026-11-05..2026-11-19", clock.now()), date(2026, 11, 20))] == [
        (monthly, "2026-11-01", "2026-11-01", 1), (daily, "2026-11-01", "2026-11-04", -1),
        (daily, "2026-11-20", "2026-11-30", -1)]
    assert parts("2026-03-02..2026-03-30") == [(monthly, "2026-03-01", "2026-03-01", 1),
                                               (daily, "2026-03-01", "2026-03-01", -1),
                                               (daily, "2026-03-31", "2026-03-31", -1)]


def test_the_board_reads_the_cases_where_the_rollup_cannot_answer(clock):
    liaison = Actor.of("liaison", {"liaison", "manager"}, "150200", "包头市住建局", department_id=7)
    county = Actor.of("county", {"manager"}, "150207", "九原区委政法委")
    month_period, week = parse_period("2026-03", clock.now()), parse_period("2026-W10", clock.now())
    assert rollup_applies(CITY, "150200", month_period)
    assert rollup_applies(CITY, "150200", week)  # the daily rows
    assert not rollup_applies(county, "150207", month_period)  # its places are townships
    assert not rollup_applies(CITY, "150000", month_period)  # a scope the actor does not read whole
    assert not rollup_applies(liaison, "150200", month_period)  # reads dispatched cases beyond the scope


def test_the_demo_seed_leaves_a_correct_rollup(tmp_path):
    """The demo writes its back-dated histories through the engine and the ORM, so the hook fills the
    rollup as it goes: it equals one rebuilt from the seeded cases."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite'}", "SECRET_KEY": "t",
                      "CLOCK": FakeClock(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))})
    with app.app_context():
        seed_demo(db.session, app.extensions["fengqiao"], cases=12)
        kept = _table(db.session)
        assert kept
        rebuild(db.session)
        assert _table(db.session) == kept
        db.session.rollback()


def test_stats_rebuild_recomputes_the_rollup_of_an_older_database(cli_database, capsys):
    """A database that held cases before the rollup existed: `fengqiao stats rebuild` fills it."""
    with cli_database() as session:
        session.execute(CaseMonthStat.__table__.insert().values(
            month=datetime(2020, 1, 1).date(), reg_county="150207", handling_county="150207", dimension="total",
            value="", **{count: 9 for count in ROLLUP_COUNTS}))  # a stale row the rebuild must drop
        session.commit()
    assert main(["stats", "rebuild"]) == 0
    assert "rollup rebuilt: case_month_stat 0 rows, case_day_stat 0 rows" in capsys.readouterr().out
    with cli_database() as session:
        assert _table(session) == {}


def test_a_database_from_before_the_rollup_is_filled_once_at_start(sessions, written_by_hand):
    with sessions() as session:
        kept = _table(session)
        session.query(CaseDayStat).delete()  # a database from before the daily grain
        session.commit()
        assert rebuild_if_empty(session) is True
        assert _table(session) == kept
        assert rebuild_if_empty(session) is False  # filled: left as the hook keeps it


def test_a_case_changed_after_its_columns_expired_is_counted_from_the_database(sessions, clock, month):  # noqa: F811
    """The hook takes a case's previous values from what the ORM loaded; when they were expired it
    asks the database, and the rollup still equals one rebuilt from the cases."""
    with sessions() as session:
        case = session.scalars(select(Case).where(Case.status == "open").order_by(Case.id)).first()
        session.expire(case, ["status", "closed_at", "outcome"])
        case.status, case.closed_at, case.outcome = "concluded", clock.now() + timedelta(days=3), "resolved"
        session.commit()
        kept = _table(session)
        rebuild(session)
        assert _table(session) == kept
        session.rollback()
