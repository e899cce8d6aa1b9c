"""小事不出村、大事不出乡: a case is handled at the level the routing decides and moves up when that
level fails or runs out of time, down when a level above hands it on (上级交办)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import levels, queries
from engine.actors import Actor
from engine.assignment import Assignments, get_visible_case
from engine.errors import Forbidden, NotFound
from engine.levels import LevelError, registration_center
from engine.models import CaseEvent, HumanTask
from tests.engine.org import (
    CENTERS, COUNTY, COUNTY_DIRECTOR, HANDLING_ROLES, COUNTY_MEDIATOR, COUNTY_STAFF, OTHER_TOWNSHIP, OUTSIDER, TOWNSHIP,
    TOWNSHIP_CLERK, TOWNSHIP_DIRECTOR, TOWNSHIP_MEDIATOR, VILLAGE, VILLAGE_DIRECTOR, VILLAGE_MEDIATOR, build_tree,
)
from tests.engine.scenario import CaseScenario, mediate


@pytest.fixture
def tree(sessions):
    build_tree(sessions)


@pytest.fixture
def village_case(tree, sessions, runtime, clock) -> CaseScenario:
    """A 新河村 dispute registered at the 九原区 window: 受理 and 研判 there, then dispatched as routed."""
    scenario = CaseScenario(sessions, runtime, COUNTY_STAFF, clock, jurisdiction=VILLAGE)
    scenario.do_all("accept", "assess")
    return scenario


def transfer_orders(scenario):
    return [d for d in scenario.documents() if d.doc_type == "transfer_order"]


def inbox_cases(sessions, actor) -> list[int]:
    with sessions() as session:
        return [item.case.id for item in queries.inbox(session, actor)]


# -- where a case starts -----------------------------------------------------------------------

def test_a_county_window_keeps_a_village_dispute_for_acceptance_and_analysis(village_case):
    case = village_case.case()
    assert (case.jurisdiction_code, case.handling_jurisdiction_code) == (VILLAGE, COUNTY)
    # The routing proposed the village, but 分流转办 is still the county's decision to take.
    assert case.handling_level == "village"
    assert village_case.task("dispatch").jurisdiction_code == COUNTY
    assert village_case.events("case_transferred") == []


def test_a_township_clerk_registering_a_village_dispute_keeps_it_at_the_township(tree, sessions, runtime, clock):
    scenario = CaseScenario(sessions, runtime, TOWNSHIP_CLERK, clock, jurisdiction=VILLAGE)
    assert scenario.case().handling_jurisdiction_code == TOWNSHIP
    assert scenario.task("accept").jurisdiction_code == TOWNSHIP
    with sessions() as session:
        # Without a clerk grant covering the place, the place's own center handles it.
        assert registration_center(session, VILLAGE_MEDIATOR, VILLAGE) == VILLAGE
        assert registration_center(session, COUNTY_STAFF, "150207009") == COUNTY


# -- down: the routing's level --------------------------------------------------------------------

def test_a_village_routed_case_lands_in_the_village_queue_with_a_transfer_order_naming_both_centers(
        village_case, sessions):
    village_case.dispatch_as_routed()

    case = village_case.case()
    assert case.handling_jurisdiction_code == VILLAGE
    assert village_case.task("mediate").jurisdiction_code == VILLAGE
    assert inbox_cases(sessions, VILLAGE_MEDIATOR) == [case.id]
    assert inbox_cases(sessions, COUNTY_MEDIATOR) == []
    [moved] = village_case.events("case_transferred")
    assert (moved.data["from"], moved.data["to"], moved.data["direction"]) == (COUNTY, VILLAGE, "down")
    # One 转送交办单: the one 分流转办 declares, issued by the county and naming both centers.
    [order] = transfer_orders(village_case)
    assert order.element_id == "dispatch"
    assert (order.data["transfer_from"], order.data["transfer_to"]) == (CENTERS[COUNTY], CENTERS[VILLAGE])
    assert order.number.startswith(f"{COUNTY}-2026-交")
    assert "转出单位" in order.html and CENTERS[COUNTY] in order.html and CENTERS[VILLAGE] in order.html


def test_the_case_stays_and_says_why_when_the_tree_has_no_center_at_the_level(tree, sessions, runtime, clock):
    scenario = CaseScenario(sessions, runtime, COUNTY_STAFF, clock, jurisdiction=COUNTY)
    scenario.do_all("accept", "assess")
    scenario.dispatch_as_routed()  # village: but the place is the county itself
    scenario.do("mediate", mediate("continue"))

    assert scenario.case().handling_jurisdiction_code == COUNTY
    assert scenario.task("mediate").jurisdiction_code == COUNTY
    [stayed] = scenario.events("case_not_transferred")  # said once, not on every run
    assert "没有村（社区）级综治中心" in stayed.summary and CENTERS[COUNTY] in stayed.summary


def test_escalating_never_sends_a_case_down_when_the_routed_level_had_no_center(tree, sessions, runtime, clock):
    # 其他乡镇 has a center but no village station: routed to the village, the case stayed at the county.
    scenario = CaseScenario(sessions, runtime, COUNTY_STAFF, clock, jurisdiction=OTHER_TOWNSHIP)
    scenario.do_all("accept", "assess")
    scenario.dispatch_as_routed()
    assert scenario.case().handling_jurisdiction_code == COUNTY

    scenario.do("mediate", mediate("escalate"), actor=COUNTY_MEDIATOR)  # the process raises it to township

    case = scenario.case()
    assert (case.handling_level, case.handling_jurisdiction_code) == ("township", COUNTY)
    assert scenario.events("case_transferred") == []
    assert scenario.task("mediate").jurisdiction_code == COUNTY


# -- up: the level fails or runs out of time -------------------------------------------------------

def test_mediation_failing_at_the_village_raises_the_case_to_the_township(village_case, sessions):
    village_case.dispatch_as_routed()
    village_case.do("mediate", mediate("escalate"), actor=VILLAGE_MEDIATOR)

    case = village_case.case()
    assert (case.handling_jurisdiction_code, case.handling_level) == (TOWNSHIP, "township")
    assert village_case.task("mediate").jurisdiction_code == TOWNSHIP
    order = transfer_orders(village_case)[-1]
    assert order.element_id == "raise_level"
    assert (order.data["transfer_from"], order.data["transfer_to"]) == (CENTERS[VILLAGE], CENTERS[TOWNSHIP])
    assert "升级" in village_case.events("level_changed")[-1].summary

    # The village keeps the case in its records but no longer works on it; the township does.
    with sessions() as session:
        assert get_visible_case(session, VILLAGE_MEDIATOR, case.id) is not None
        assert [e.kind for e in queries.case_events(session, case)][0] == "case_started"
    assert inbox_cases(sessions, VILLAGE_MEDIATOR) == []
    assert inbox_cases(sessions, TOWNSHIP_MEDIATOR) == [case.id]
    with pytest.raises(Forbidden):
        village_case.do("mediate", mediate("success"), actor=VILLAGE_MEDIATOR)
    village_case.do("mediate", mediate("success"), actor=TOWNSHIP_MEDIATOR)
    assert village_case.task("agreement").jurisdiction_code == TOWNSHIP


def test_the_escalation_timer_moves_a_stalled_village_case_up_to_the_township(village_case):
    village_case.dispatch_as_routed()
    village_mediation = village_case.task("mediate")
    village_case.clock.set(village_mediation.created_at + timedelta(days=47))  # past the 45日 escalate_after

    village_case.sweep()

    case = village_case.case()
    assert case.handling_jurisdiction_code == TOWNSHIP
    mediation = village_case.task("mediate")
    assert mediation.id != village_mediation.id and mediation.jurisdiction_code == TOWNSHIP
    assert transfer_orders(village_case)[-1].data["transfer_to"] == CENTERS[TOWNSHIP]
    assert [e.data["direction"] for e in village_case.events("case_transferred")] == ["down", "up"]


def test_escalation_climbs_village_township_county(village_case):
    village_case.dispatch_as_routed()
    village_case.do("mediate", mediate("escalate"), actor=VILLAGE_MEDIATOR)
    village_case.do("mediate", mediate("escalate"), actor=TOWNSHIP_MEDIATOR)

    assert village_case.case().handling_jurisdiction_code == COUNTY
    assert village_case.task("mediate").jurisdiction_code == COUNTY
    assert [(e.data["from"], e.data["to"]) for e in village_case.events("case_transferred")] == [
        (COUNTY, VILLAGE), (VILLAGE, TOWNSHIP), (TOWNSHIP, COUNTY)]
    assert len(transfer_orders(village_case)) == 3


# -- by hand: 上级交办 and 上报 -------------------------------------------------------------------------

@pytest.fixture
def county_case(tree, sessions, runtime, clock) -> CaseScenario:
    """A red-risk 新河村 dispute kept at the county, its mediation claimed by a county mediator."""
    scenario = CaseScenario(sessions, runtime, COUNTY_STAFF, clock, jurisdiction=VILLAGE)
    scenario.do("accept")
    scenario.do("assess", {"risk_color": "红", "complexity": "ordinary", "assessment": "可能激化"})
    scenario.dispatch_as_routed()
    with sessions() as session:
        Assignments(clock).claim(session, scenario.task("mediate").id, COUNTY_MEDIATOR)
    return scenario


def test_the_county_director_sends_a_case_down_and_its_open_task_follows(county_case, sessions, runtime):
    mediation = county_case.task("mediate")
    assert (mediation.jurisdiction_code, mediation.claimed_by) == (COUNTY, "county_mediator")

    with sessions() as session:
        levels.send_down(session, runtime, county_case.case_id, TOWNSHIP, "属地化解更有利", COUNTY_DIRECTOR)

    case = county_case.case()
    assert (case.handling_jurisdiction_code, case.handling_level) == (TOWNSHIP, "township")
    moved = county_case.task("mediate")
    assert moved.id == mediation.id
    assert (moved.jurisdiction_code, moved.claimed_by) == (TOWNSHIP, None)
    [requeued] = county_case.events("task_requeued")
    assert requeued.data["previous_claimant"] == "county_mediator"
    down = county_case.events("case_transferred")[-1]
    assert (down.data["direction"], down.data["by_hand"], down.data["reason"]) == ("down", True, "属地化解更有利")
    assert "下交" in county_case.events("level_changed")[-1].summary
    order = transfer_orders(county_case)[-1]
    assert order.data["details"]["reason"] == "属地化解更有利"
    assert "上级交办" in order.html and CENTERS[TOWNSHIP] in order.html

    # The process agrees on the level: escalating from the township goes back to the county.
    county_case.do("mediate", mediate("escalate"), actor=TOWNSHIP_MEDIATOR)
    assert county_case.case().handling_jurisdiction_code == COUNTY


def test_only_a_director_over_the_handling_center_may_send_down_and_only_below_it(county_case, sessions, runtime):
    case_id = county_case.case_id
    with sessions() as session, pytest.raises(Forbidden):
        levels.send_down(session, runtime, case_id, TOWNSHIP, "交办", COUNTY_MEDIATOR)
    with sessions() as session, pytest.raises(Forbidden):
        levels.send_down(session, runtime, case_id, VILLAGE, "交办", TOWNSHIP_DIRECTOR)  # sees it, cannot move it
    with sessions() as session, pytest.raises(NotFound):
        levels.send_down(session, runtime, case_id, TOWNSHIP, "交办", OUTSIDER)
    with sessions() as session, pytest.raises(LevelError, match="not a center below"):
        levels.send_down(session, runtime, case_id, COUNTY, "交办", COUNTY_DIRECTOR)
    with sessions() as session, pytest.raises(LevelError, match="reason"):
        levels.send_down(session, runtime, case_id, TOWNSHIP, "  ", COUNTY_DIRECTOR)
    assert county_case.case().handling_jurisdiction_code == COUNTY
    assert county_case.events("case_transferred") == []
    # A center below need not be on the place's path (the director chooses).
    with sessions() as session:
        levels.send_down(session, runtime, case_id, OTHER_TOWNSHIP, "麻池镇熟悉当事人", COUNTY_DIRECTOR)
    assert county_case.task("mediate").jurisdiction_code == OTHER_TOWNSHIP


def test_a_director_reports_a_case_up_one_level_at_a_time(village_case, sessions, runtime):
    village_case.dispatch_as_routed()
    case_id = village_case.case_id
    with sessions() as session, pytest.raises(Forbidden):
        levels.report_up(session, runtime, case_id, "村级无法化解", VILLAGE_MEDIATOR)

    with sessions() as session:
        levels.report_up(session, runtime, case_id, "村级无法化解", VILLAGE_DIRECTOR)
    assert village_case.case().handling_jurisdiction_code == TOWNSHIP
    assert village_case.task("mediate").jurisdiction_code == TOWNSHIP
    with sessions() as session:
        levels.report_up(session, runtime, case_id, "涉及多个乡镇", TOWNSHIP_DIRECTOR)
    assert village_case.case().handling_jurisdiction_code == COUNTY
    with sessions() as session, pytest.raises(LevelError, match="no center above"):
        levels.report_up(session, runtime, case_id, "再上报", COUNTY_DIRECTOR)
    assert [e.data["direction"] for e in village_case.events("case_transferred")] == ["down", "up", "up"]
    assert [d.data["details"].get("reason") for d in transfer_orders(village_case)][1:] == [
        "村级无法化解", "涉及多个乡镇"]


def test_a_closed_case_cannot_be_moved(village_case, sessions, runtime):
    village_case.dispatch_as_routed()
    village_case.actor = Actor.of("village_staff", HANDLING_ROLES, VILLAGE)  # the station does the rest
    village_case.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert village_case.case().status == "concluded"
    with sessions() as session, pytest.raises(LevelError, match="concluded"):
        levels.report_up(session, runtime, village_case.case_id, "上报", VILLAGE_DIRECTOR)


def test_without_a_tree_cases_stay_where_they_were_registered(sessions, runtime, staff, clock):
    scenario = CaseScenario(sessions, runtime, staff, clock)
    scenario.do_all("accept", "assess")
    scenario.dispatch_as_routed()
    scenario.do("mediate", mediate("escalate"))
    assert scenario.case().handling_jurisdiction_code == "150207"
    with sessions() as session:
        kinds = set(session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == scenario.case_id)))
        assert not kinds & {"case_transferred", "case_not_transferred"}
        assert {t.jurisdiction_code for t in session.scalars(select(HumanTask))} == {"150207"}
