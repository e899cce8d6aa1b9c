"""The flow's heatmap (流程热力图) of 邻里纠纷 in 九原区 for March 2026: four registrations checked after 1, 2,
4 and 10 hours, one assessment after 9 hours, the rest waiting — per node the cases waiting now and the
median and 90th percentile of the time taken, the same on SQLite and PostgreSQL; a case in 昆都仑区 stays
out of 九原区's map; and one case's path for highlighting it on the diagram."""
from __future__ import annotations

import pytest

from engine.actors import Actor
from engine.cockpit_heatmap import CasePath, case_path, heatmap, percentile
from engine.cockpit_metrics import parse_period
from engine.models import Case
from tests.conftest import ALL_ROLES
from tests.engine.scenario import CaseScenario

JIUYUAN, KUNDULUN = "150207", "150203"
MANAGER = Actor.of("manager", {"manager"}, JIUYUAN, "九原区政法委")
OUTSIDER = Actor.of("outsider", {"manager"}, KUNDULUN, "昆都仑区政法委")


@pytest.fixture
def march(sessions, runtime, staff, clock):
    """Four 九原区 cases registered Monday 2 March 09:00 (and one in 昆都仑区), taken on at different speeds."""
    cases = [CaseScenario(sessions, runtime, staff, clock) for _ in range(4)]
    elsewhere = CaseScenario(sessions, runtime, Actor.of("kunqu", ALL_ROLES, KUNDULUN), clock, jurisdiction=KUNDULUN)
    for case, hours in zip(cases, (1, 1, 2, 6)):  # accepted at 10:00, 11:00, 13:00, 19:00
        clock.advance(hours=hours)
        case.do("accept")
    elsewhere.do("accept")
    cases[0].do("assess")  # created at 10:00, done at 19:00: 9 hours
    clock.advance(days=31)  # 19:00 on 2 April: completed now, outside March
    cases[1].do("assess")
    return cases


def hours(node) -> tuple:
    return node.waiting, node.completed, round(node.median_hours, 6), round(node.p90_hours, 6)


def test_per_node_the_waiting_cases_and_the_median_and_90th_percentile_of_the_time_taken(sessions, clock, march):
    with sessions() as session:
        nodes = heatmap(session, MANAGER, "neighbour", JIUYUAN, parse_period("2026-03", clock.now()), clock.now())
    # Registrations took 1, 2, 4 and 10 hours: median 3, 90th percentile 4 + 0.7 × 6 = 8.2 (percentile_cont).
    assert hours(nodes["accept"]) == (0, 4, 3.0, 8.2)
    assert hours(nodes["assess"]) == (2, 1, 9.0, 9.0)  # the April assessment is outside the period
    dispatch = nodes["dispatch"]
    assert (dispatch.waiting, dispatch.completed, dispatch.median_hours, dispatch.p90_hours) == (2, 0, None, None)
    assert set(nodes) == {"accept", "assess", "dispatch"}


def test_april_counts_the_assessment_done_then(sessions, clock, march):
    with sessions() as session:
        nodes = heatmap(session, MANAGER, "neighbour", JIUYUAN, parse_period("2026-04", clock.now()), clock.now())
    assert nodes["assess"].completed == 1 and "accept" not in nodes  # nothing waits there, none done in April
    assert nodes["assess"].median_hours == 31 * 24 + 8  # created at 11:00 on 2 March, done 19:00 on 2 April


def test_another_county_sees_only_its_own_case_and_none_of_jiuyuan(sessions, clock, march):
    march_period = parse_period("2026-03", clock.now())
    with sessions() as session:
        assert heatmap(session, OUTSIDER, "neighbour", JIUYUAN, march_period, clock.now()) == {}
        theirs = heatmap(session, OUTSIDER, "neighbour", KUNDULUN, march_period, clock.now())
        # 昆都仑区 runs its 六步法: after 管家接待 (accept) the case waits at 窗口分流.
        assert (theirs["accept"].completed, theirs["window_dispatch"].waiting) == (1, 1)
        assert heatmap(session, MANAGER, "neighbour", "150207001", march_period, clock.now()) == {}
        assert heatmap(session, MANAGER, "consumer", JIUYUAN, march_period, clock.now()) == {}


def test_a_case_path_shows_where_it_has_been_and_where_it_is(sessions, clock, march):
    march[0].do("dispatch")
    with sessions() as session:
        assert case_path(session, session.get(Case, march[0].case_id)) == CasePath(
            ["accept", "assess", "dispatch"], ["mediate"])
        assert case_path(session, session.get(Case, march[3].case_id)) == CasePath(["accept"], ["assess"])


def test_percentiles_interpolate_like_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([10.0, 1.0, 4.0, 2.0], 0.5) == 3.0
    assert percentile([1.0, 2.0, 4.0, 10.0], 0.9) == pytest.approx(8.2)
