"""其他纠纷: the generic 人民调解 flow (30 日), with a 研判 choice to hand a case that involves several
departments to a 联席会议 whose binding opinion then goes to mediation.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.actors import Actor
from tests.engine.scenario import CaseScenario, end_of_day, mediate

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
LIAISON = Actor.of("liaison", frozenset({"liaison"}), "150207", "部门联络员")
INTAKE_STEPS = ("accept", "assess", "dispatch")
ASSESS = {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般纠纷"}
ANSWERS = {
    "assess": ASSESS,
    "dispatch": {"handling_level": "village", "department": "村（社区）人民调解委员会"},
    "agreement": {"agreement_terms": "双方和解"},
    "legal_route": {"termination_reason": "一方拒绝调解", "legal_route": "other"},
}
BINDING = {"binding_opinion": "由住建局牵头，城管局配合，十日内拆除违建并恢复通道", "lead_department": "住建局"}


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="other", answers=ANSWERS)


def hold_meeting(scenario, departments: list[str]) -> None:
    opinions = scenario.ready_tasks()
    assert sorted(t.name for t in opinions) == sorted(f"部门意见（{d}）" for d in departments)
    for task in opinions:
        with scenario.sessions() as session:
            scenario.runtime.complete_task(session, task.id, {"opinion": f"{task.name}：同意", "agrees": True}, LIAISON)
    scenario.do("binding_opinion", BINDING, actor=DIRECTOR)


# -- 联席会议 ------------------------------------------------------------------------------------------

def test_departments_typed_as_text_are_split_and_the_binding_opinion_goes_to_mediation(scenario):
    scenario.do("accept")
    scenario.do("assess", {**ASSESS, "joint_meeting": True,
                           "meeting_departments_text": "住建局，城管局、 市场监管局,住建局"})
    # Split on Chinese and ASCII commas and 顿号, trimmed, duplicates dropped, in the order given.
    assert scenario.case().data["meeting_departments"] == ["住建局", "城管局", "市场监管局"]
    assert {t.role for t in scenario.ready_tasks()} == {"liaison"}
    hold_meeting(scenario, ["住建局", "城管局", "市场监管局"])
    assert "adopt_binding_opinion" in scenario.passed()
    dispatch = scenario.task("dispatch")
    # The lead department named by the meeting is the one the case is dispatched to.
    assert dispatch.form_defaults["department"] == "住建局"
    assert dispatch.form_defaults["dispatch_note"] == "联席会议意见：" + BINDING["binding_opinion"]
    scenario.do("dispatch", {"handling_level": "township", "department": "住建局",
                             "dispatch_note": dispatch.form_defaults["dispatch_note"]})
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    case = scenario.case()
    assert case.status == "concluded"
    assert [o["department"] for o in case.data["department_opinions"]] == ["住建局", "城管局", "市场监管局"]
    [notice] = [d for d in scenario.documents() if d.doc_type == "result_notice"]
    assert BINDING["binding_opinion"] in notice.html


def test_departments_given_as_a_list_are_used_as_they_are(scenario):
    scenario.do("accept")
    scenario.do("assess", {**ASSESS, "joint_meeting": True, "meeting_departments": ["司法所", "派出所"],
                           "meeting_departments_text": "被忽略"})
    assert scenario.case().data["meeting_departments"] == ["司法所", "派出所"]
    hold_meeting(scenario, ["司法所", "派出所"])
    assert scenario.ready() == ["dispatch"]


def test_one_department_is_not_a_joint_meeting(scenario):
    scenario.do("accept")
    scenario.do("assess", {**ASSESS, "joint_meeting": True, "meeting_departments_text": "住建局"})
    assert scenario.ready() == ["dispatch"]
    assert "joint_meeting_call" not in scenario.passed()


def test_without_a_joint_meeting_the_case_goes_straight_to_dispatch(scenario):
    scenario.do_all("accept", "assess")
    assert scenario.ready() == ["dispatch"]
    assert scenario.case().data["meeting_departments"] == []
    assert {"split_departments", "meeting_gateway"} <= scenario.passed()


# -- 受理, 分流 ---------------------------------------------------------------------------------------------

def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "已进入诉讼程序"})
    assert scenario.case().status == "terminated"
    assert "end_rejected" in scenario.passed()


@pytest.mark.parametrize("colour, complexity, level, warned", [
    ("红", "simple", "county", True),
    ("橙", "simple", "township", True),
    ("黄", "complex", "township", False),
    ("蓝", "simple", "village", False),
])
def test_routing_by_risk_and_complexity(scenario, colour, complexity, level, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "complexity": complexity, "assessment": "研判"})
    assert scenario.task("dispatch").form_defaults["handling_level"] == level
    assert ("risk_warning" in scenario.doc_types()) is warned


def test_a_red_case_with_several_departments_is_warned_and_goes_to_the_meeting(scenario):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": "红", "complexity": "complex", "assessment": "群体性苗头",
                           "joint_meeting": True, "meeting_departments_text": "信访局、人社局"})
    assert "risk_warning_event" in scenario.passed()
    assert scenario.ready() == ["department_opinion", "department_opinion"]


# -- 调处 ----------------------------------------------------------------------------------------------

def test_mediation_lasts_thirty_days_and_failure_ends_with_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    # 30 日 from Monday 2 March 2026: Wednesday 1 April (人民调解 一般一个月内调结).
    assert (mediation.deadline, mediation.due_at) == ("30 日", end_of_day(2026, 4, 1))
    scenario.do("mediate", mediate("failure"))
    scenario.do_all("legal_route", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_termination", "legal_route",
                                   "result_notice"]


def test_escalation_climbs_to_the_county_then_ends_in_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.do("mediate", mediate("escalate"))
    scenario.do("mediate", mediate("escalate"))
    case = scenario.case()
    assert (case.handling_level, case.department) == ("county", "县（区）矛盾纠纷多元化解中心")
    scenario.do("mediate", mediate("escalate"))
    assert scenario.ready() == ["legal_route"]
    assert "raise_level" in scenario.passed()


def test_warning_then_overdue_supervision(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.warn_at + timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["warning"]
    assert scenario.doc_types()[-1] == "work_reminder"
    scenario.clock.set(mediation.due_at + timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["overdue"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "请加快"}, actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert {"warning_end", "supervision_end"} <= scenario.passed()


def test_supervision_escalates_an_overdue_case(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(seconds=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "升级"}, actor=DIRECTOR)
    assert scenario.case().handling_level == "township"
    assert scenario.ready() == ["mediate"]
    assert {"escalate_throw", "supervision_end_escalated", "mediate_escalate_signal"} <= scenario.passed()


def test_a_dissatisfied_party_gets_the_case_mediated_again_once(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied"})
    scenario.do("second_supervision", actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("failure")), "legal_route", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
