"""Every path of the 邻里纠纷 process, end to end through the engine with a fake clock."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.calendar import SHANGHAI
from tests.engine.scenario import CaseScenario, mediate

INTAKE_STEPS = ("accept", "assess", "dispatch")


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock)


def test_a_registered_case_gets_a_code_and_waits_for_acceptance(scenario):
    case = scenario.case()
    assert case.code == "150207-2026-000001"
    assert case.status == "open"
    assert case.current_nodes == ["受理审查"]
    assert scenario.ready() == ["accept"]
    assert [e.kind for e in scenario.events()] == ["case_started", "task_created"]


def test_successful_mediation_is_concluded_and_archived(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result", "follow_up")
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    case = scenario.case()
    assert case.status == "concluded"
    assert case.current_nodes == []
    assert case.closed_at == scenario.clock.now()
    completed = [e.element_id for e in scenario.events("task_completed")]
    assert completed == ["accept", "assess", "dispatch", "mediate", "agreement", "notify_result", "follow_up",
                         "archive"]
    assert scenario.timers() == []


def test_agreement_with_judicial_confirmation_goes_through_the_court_step(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")))
    scenario.do("agreement", {"agreement_terms": "赔偿", "apply_judicial_confirmation": True})
    assert scenario.ready() == ["judicial_confirmation"]
    judicial = scenario.task("judicial_confirmation")
    # 30日 from Monday 2 March: 1 April 2026 is a Wednesday, a working day.
    assert judicial.due_at == datetime(2026, 4, 1, 23, 59, 59, tzinfo=SHANGHAI)
    scenario.do("judicial_confirmation", {"confirmation_result": "confirmed", "court": "九原区人民法院"})
    assert scenario.ready() == ["notify_result"]


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "不属于受理范围"})
    case = scenario.case()
    assert case.status == "terminated"
    assert scenario.ready() == []
    assert scenario.events()[-1].summary == "已终止"


def test_failed_mediation_guides_to_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("failure")))
    assert scenario.ready() == ["legal_route"]
    scenario.do_all("legal_route", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_mediation_rounds_are_bounded_at_three(scenario):
    scenario.do_all(*INTAKE_STEPS)
    for _ in range(2):
        scenario.do("mediate", mediate("continue"))
        assert scenario.ready() == ["mediate"]
    scenario.do("mediate", mediate("continue"))
    # The third "continue" is not honoured: the case moves on to the legal route instead of looping.
    assert scenario.ready() == ["legal_route"]


def test_escalation_climbs_village_township_county_then_ends_in_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS)
    assert scenario.case().handling_level == "village"
    scenario.do("mediate", mediate("escalate"))
    assert scenario.case().handling_level == "township"
    scenario.do("mediate", mediate("escalate"))
    assert scenario.case().handling_level == "county"
    scenario.do("mediate", mediate("escalate"))
    assert scenario.ready() == ["legal_route"]
    changes = [e.data for e in scenario.events("level_changed")]
    assert changes == [{"from": "village", "to": "township"}, {"from": "township", "to": "county"}]


def test_routing_sends_red_risk_straight_to_the_county(scenario):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": "红", "complexity": "complex", "assessment": "有激化风险"})
    dispatch = scenario.task("dispatch")
    assert dispatch.form_defaults["handling_level"] == "county"
    assert scenario.case().risk_color == "红"


def test_reminder_fires_at_the_warning_share_then_the_handler_completes(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    # 30日 from 2 March ends 1 April 23:59:59; 80% of that span is about 26 March.
    assert mediation.due_at == datetime(2026, 4, 1, 23, 59, 59, tzinfo=SHANGHAI)
    scenario.clock.set(mediation.warn_at - timedelta(seconds=1))
    assert scenario.sweep().fired == []
    scenario.clock.advance(seconds=2)
    fired = scenario.sweep().fired
    assert [(f.element_id, f.kind) for f in fired] == [("mediate_warning", "warning")]
    assert scenario.task("mediate").warned_at == scenario.clock.now()
    scenario.do("mediate", mediate("success"))
    assert not scenario.case().is_overdue
    assert scenario.ready() == ["agreement"]
    assert scenario.timers() == []  # the overdue and escalation timers left with the task


def test_overdue_flags_the_case_and_sends_supervision_while_the_handler_keeps_the_task(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    fired = scenario.sweep().fired
    assert sorted(f.kind for f in fired) == ["overdue", "warning"]
    case = scenario.case()
    assert case.is_overdue
    assert scenario.ready() == ["mediate", "supervise"]
    assert scenario.task("supervise").role == "director"
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "请加快调处"})
    assert scenario.ready() == ["mediate"]
    scenario.do("mediate", mediate("success"))
    assert not scenario.case().is_overdue


def test_supervisor_can_escalate_an_overdue_case_to_the_next_level(scenario):
    scenario.do_all(*INTAKE_STEPS)
    first_mediation = scenario.task("mediate")
    scenario.clock.set(first_mediation.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "村级逾期，升级乡镇"})
    assert scenario.ready() == ["mediate"]
    assert scenario.task("mediate").id != first_mediation.id
    assert scenario.case().handling_level == "township"
    assert [e.task_id for e in scenario.events("task_cancelled")] == [first_mediation.id]


def test_the_case_escalates_by_itself_when_the_further_limit_passes(scenario):
    scenario.do_all(*INTAKE_STEPS)
    started = scenario.clock.now()
    scenario.clock.set(started + timedelta(days=47))  # past the 45日 escalate_after limit
    scenario.sweep()
    # The overdue branch opened 督办; the escalation withdrew the village mediation and opened a new one.
    assert scenario.case().handling_level == "township"
    assert sorted(scenario.ready()) == ["mediate", "supervise"]
    kinds = sorted(e.data["kind"] for e in scenario.events("timer_fired"))
    assert kinds == ["escalate", "overdue", "warning"]


def test_dissatisfied_follow_up_gets_one_second_supervision_then_archives(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "未整改"})
    assert scenario.ready() == ["second_supervision"]
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "仍不满意"})
    # Only one 二次督办 round: the second dissatisfied answer goes on to archiving.
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"


def test_closing_the_case_withdraws_an_open_supervision_task(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.ready() == []


def test_an_accepted_case_passes_the_acceptance_notice_and_a_rejected_one_does_not(scenario, sessions, runtime,
                                                                                   staff, clock):
    scenario.do("accept")
    assert "acceptance_notice_event" in scenario.passed()
    rejected = CaseScenario(sessions, runtime, staff, clock)
    rejected.do("accept", {"accepted": False, "reject_reason": "不属于受理范围"})
    assert "acceptance_notice_event" not in rejected.passed()


@pytest.mark.parametrize("colour, warned", [("红", True), ("橙", True), ("黄", False), ("蓝", False)])
def test_only_red_and_orange_risk_passes_the_risk_warning_before_dispatch(scenario, colour, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "complexity": "ordinary", "assessment": "研判"})
    assert scenario.ready() == ["dispatch"]
    assert ("risk_warning_event" in scenario.passed()) is warned
