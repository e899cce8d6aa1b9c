"""The cockpit board counts what the case list shows: five 邻里纠纷 cases of 九原区 in March 2026 —
not accepted, resolved and satisfied, referred to litigation, overdue at 调处, 临期 at 研判 — and every
number of the board, in total and by each dimension, equals the count of the cases its list selects."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.actors import Actor
from engine.cockpit_board import board
from engine.cockpit_metrics import COUNTS, CaseQuery, QueryError, parse_period, rate
from engine.models import Case
from tests.engine.scenario import CaseScenario, mediate

JIUYUAN = "150207"
MANAGER = Actor.of("manager", {"manager"}, JIUYUAN, "政法委")
OUTSIDER = Actor.of("outsider", {"manager"}, "150203", "昆都仑区政法委")
INTAKE_STEPS = ("accept", "assess", "dispatch")


@pytest.fixture
def month(sessions, runtime, staff, clock):
    def case() -> CaseScenario:
        return CaseScenario(sessions, runtime, staff, clock)

    case().do("accept", {"accepted": False, "reject_reason": "不属于受理范围"})
    case().do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    case().do_all(*INTAKE_STEPS, ("mediate", mediate("failure")), "legal_route", "notify_result", "follow_up",
                  "archive")
    overdue = case()
    overdue.do_all(*INTAKE_STEPS)
    clock.advance(days=31)  # 调处 is 30 日
    overdue.sweep()
    near = case()
    near.do("accept")
    clock.advance(hours=36)  # 研判 is 1 工作日 (to Friday 23:59): its warning (80 %) has passed, the limit has not
    near.sweep()


def count(sessions, query: CaseQuery, actor: Actor, now) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Case).where(query.conditions(actor, now)))


def test_every_number_equals_the_count_of_its_case_list(sessions, clock, month):
    period = parse_period("2026-03-01..2026-04-30", clock.now())
    with sessions() as session:
        result = board(session, MANAGER, JIUYUAN, period, clock.now(), {"neighbour": "邻里纠纷"})
    totals = result.totals
    assert (totals["received"], totals["closed"], totals["rejected"], totals["resolved"], totals["handled"]) == (5, 3, 1, 1, 2)
    assert (totals["open"], totals["overdue"], totals["near_due"]) == (2, 1, 1)
    assert (totals["surveyed"], totals["satisfied"], totals["absorbed"]) == (2, 2, 2)
    assert rate(totals, "resolution_rate") == 0.5 and rate(totals, "satisfaction_rate") == 1.0
    assert rate(totals, "performance_rate") is None  # nothing checked: shown as —, not 0 %
    for key in COUNTS:
        assert count(sessions, result.query(key), MANAGER, clock.now()) == totals[key], key
    for dimension, groups in result.groups.items():
        assert groups, dimension
        for group in groups:
            for key in COUNTS:
                query = result.query(key, **{dimension: group.value})
                assert count(sessions, query, MANAGER, clock.now()) == group.counts[key], (dimension, group.value, key)
    assert {g.label for g in result.groups["category"]} == {"邻里纠纷"}
    assert "未分流" in {g.label for g in result.groups["department"]}  # the rejected case was never dispatched


def test_another_county_sees_nothing_and_a_foreign_scope_is_refused(sessions, clock, month):
    period = parse_period("2026-03", clock.now())
    with sessions() as session:
        assert board(session, OUTSIDER, JIUYUAN, period, clock.now()).totals["received"] == 0
    with pytest.raises(QueryError, match="outside"):
        CaseQuery.from_params({"scope": JIUYUAN}, OUTSIDER, clock.now())


def test_periods_compare_with_the_one_before_and_the_year_before(clock):
    march = parse_period("2026-03", clock.now())
    assert (march.previous().key, march.year_before().key) == ("2026-02", "2025-03")
    assert parse_period("2026-W10", clock.now()).previous().key == "2026-W09"
    assert parse_period("2026-Q1", clock.now()).previous().key == "2025-Q4"
    assert parse_period("", clock.now()).key == "2026-03"
    with pytest.raises(QueryError, match="period"):
        parse_period("March", clock.now())
