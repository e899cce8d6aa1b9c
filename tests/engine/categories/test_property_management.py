"""物业纠纷: every path of the process end to end through the engine with a fake clock.

No statutory limit: 人民调解 one month (30 日), extended at most once by 30 日 with both parties' consent,
approved by the center's director. Routing sends cases to the 街道 物业纠纷人民调解委员会, 红/橙 risk to
the county; the only higher level is the county, reached by 督办 or at the mediator's request.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from engine.actors import Actor
from engine.errors import Forbidden
from engine.task_clock import ClockError
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario, INTAKE, end_of_day, mediate

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
MEDIATOR = Actor.of("mediator", frozenset({"mediator"}), "150207", "物业纠纷调解员")
INTAKE_STEPS = ("accept", "assess", "dispatch")
PROPERTY_INTAKE = {
    **INTAKE,
    "title": "业主拒交物业费",
    "summary": "业主以电梯长期故障为由拒交两年物业费，物业公司欲起诉。",
    "community_name": "阿尔丁小区",
    "property_company": "包头某物业服务有限公司",
}
ANSWERS = {
    "assess": {"risk_color": "黄", "complexity": "ordinary", "assessment": "物业服务质量与欠费争议"},
    "dispatch": {"handling_level": "township", "department": "街道物业纠纷人民调解委员会"},
    "agreement": {"agreement_terms": "物业公司一个月内修复电梯，业主分期补交物业费", "agreement_amount": 4800},
    "legal_route": {"termination_reason": "物业公司坚持起诉", "legal_route": "litigation"},
}


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="property_management", intake=PROPERTY_INTAKE,
                        answers=ANSWERS)


def test_a_registered_case_records_the_community_and_the_property_company(scenario):
    case = scenario.case()
    assert (case.status, case.category_code) == ("open", "property_management")
    assert (case.data["community_name"], case.data["property_company"]) == ("阿尔丁小区", "包头某物业服务有限公司")
    assert scenario.ready() == ["accept"]


def test_the_intake_form_has_every_generic_field_plus_its_own():
    generic = json.loads((ROOT / "forms" / "intake.json").read_text(encoding="utf-8"))
    own = json.loads((ROOT / "forms" / "property_management_intake.json").read_text(encoding="utf-8"))
    assert {k: own["properties"][k] for k in generic["properties"]} == generic["properties"]
    assert set(generic["required"]) <= set(own["required"])
    assert set(own["properties"]) - set(generic["properties"]) == {"community_name", "property_company"}


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "不属于物业纠纷"})
    assert scenario.case().status == "terminated"
    assert "end_rejected" in scenario.passed()


# -- 分流 -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("colour, level, department", [
    ("黄", "township", "街道物业纠纷人民调解委员会"),
    ("蓝", "township", "街道物业纠纷人民调解委员会"),
    ("橙", "county", "县（区）物业纠纷人民调解委员会"),
    ("红", "county", "县（区）物业纠纷人民调解委员会"),
])
def test_routing_sends_the_case_to_the_street_committee_and_high_risk_to_the_county(scenario, colour, level,
                                                                                    department):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "complexity": "complex", "assessment": "研判"})
    dispatch = scenario.task("dispatch")
    assert (dispatch.role, dispatch.deadline) == ("director", "2 工作日")
    assert (dispatch.form_defaults["handling_level"], dispatch.form_defaults["department"]) == (level, department)
    warned = colour in ("红", "橙")
    assert ("risk_warning_event" in scenario.passed()) is warned
    assert ("risk_warning" in scenario.doc_types()) is warned


def test_the_director_dispatches_and_only_a_director_may(scenario):
    scenario.do_all("accept", "assess")
    with pytest.raises(Forbidden):
        scenario.do("dispatch", actor=MEDIATOR)
    scenario.do("dispatch", actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order"]


# -- 调处 and its outcomes ------------------------------------------------------------------------------

def test_an_agreement_is_told_followed_up_and_archived(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    assert (mediation.role, mediation.deadline, mediation.form) == ("mediator", "30 日", "mediate_or_escalate")
    # 30 日 from Monday 2 March 2026: Wednesday 1 April, a working day.
    assert mediation.due_at == end_of_day(2026, 4, 1)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]


def test_failed_mediation_ends_with_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("failure")))
    assert scenario.ready() == ["legal_route"]
    scenario.do_all("legal_route", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types()[2:] == ["mediation_termination", "legal_route", "result_notice"]


def test_the_mediator_may_ask_for_the_county_once_then_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.do("mediate", mediate("escalate"))
    case = scenario.case()
    assert (case.handling_level, case.department) == ("county", "县（区）物业纠纷人民调解委员会")
    assert scenario.ready() == ["mediate"]
    assert scenario.doc_types().count("transfer_order") == 2
    scenario.do("mediate", mediate("escalate"))  # nothing above the county
    assert scenario.ready() == ["legal_route"]
    assert [e.data for e in scenario.events("level_changed")] == [{"from": "township", "to": "county"}]


# -- 延期: one extension of at most 30 日, approved by the director --------------------------------------

def test_an_approved_extension_moves_the_limit_and_a_second_request_is_refused(scenario, sessions, runtime, staff,
                                                                               clock):
    scenario.do_all(*INTAKE_STEPS)
    task_id = scenario.task("mediate").id
    with sessions() as session, pytest.raises(ClockError, match="at most 30 日"):
        runtime.request_extension(session, task_id, "45 日", "双方同意延长", staff)
    with sessions() as session:
        request = runtime.request_extension(session, task_id, "30 日", "双方同意延长调解期限，待业主委员会表决",
                                            MEDIATOR)
    with sessions() as session, pytest.raises(Forbidden):
        runtime.decide_extension(session, request.id, True, "同意", MEDIATOR)
    with sessions() as session:
        runtime.decide_extension(session, request.id, True, "同意延期", DIRECTOR)
    # 30 日 from the old limit, Wednesday 1 April, ends Friday 1 May, in the 劳动节 holiday (1–5 May);
    # the limit rolls to Wednesday 6 May.
    extended = scenario.task("mediate").due_at
    assert extended == end_of_day(2026, 5, 6)
    assert {t.kind: t.due_at for t in scenario.timers()}["overdue"] == extended
    assert scenario.doc_types()[-1] == "extension_notice"
    assert scenario.task("mediate").extensions_granted == 1

    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        runtime.request_extension(session, task_id, "10 日", "再次延期", MEDIATOR)

    clock.set(end_of_day(2026, 4, 1) + timedelta(minutes=1))  # the old limit passes quietly
    assert "overdue" not in [f.kind for f in scenario.sweep().fired]
    assert not scenario.case().is_overdue
    clock.set(extended + timedelta(seconds=1))
    assert "overdue" in [f.kind for f in scenario.sweep().fired]
    assert scenario.ready() == ["mediate", "supervise"]


def test_a_refused_extension_changes_nothing(scenario, sessions, runtime):
    scenario.do_all(*INTAKE_STEPS)
    task_id = scenario.task("mediate").id
    with sessions() as session:
        request = runtime.request_extension(session, task_id, "15 日", "物业公司申请延期", MEDIATOR)
    with sessions() as session:
        runtime.decide_extension(session, request.id, False, "业主不同意延期", DIRECTOR)
    assert scenario.task("mediate").due_at == end_of_day(2026, 4, 1)
    assert scenario.task("mediate").extensions_granted == 0
    assert [e.data["note"] for e in scenario.events("extension_rejected")] == ["业主不同意延期"]
    assert "extension_notice" not in scenario.doc_types()


def test_the_property_mediation_cannot_be_paused(scenario, sessions, runtime, staff):
    scenario.do_all(*INTAKE_STEPS)
    with sessions() as session, pytest.raises(ClockError):
        runtime.pause_clock(session, scenario.task("mediate").id, "鉴定", staff)


# -- 临期, 超期, 督办 ---------------------------------------------------------------------------------------

def test_a_work_reminder_at_eighty_percent(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").warn_at + timedelta(seconds=1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("mediate_warning", "warning")]
    assert scenario.doc_types()[-1] == "work_reminder"
    assert "warning_end" in scenario.passed()


def test_an_overdue_case_is_supervised_and_the_mediator_carries_on(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(end_of_day(2026, 4, 1) + timedelta(minutes=1))
    scenario.sweep()
    assert scenario.case().is_overdue
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "请尽快调结"}, actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert "supervision_end" in scenario.passed()
    scenario.do("mediate", mediate("success"))
    assert scenario.ready() == ["agreement"]


def test_supervision_lifts_an_overdue_case_to_the_county(scenario):
    scenario.do_all(*INTAKE_STEPS)
    street = scenario.task("mediate")
    scenario.clock.set(street.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "街道逾期，提级到县"},
                actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert scenario.task("mediate").id != street.id
    assert scenario.case().handling_level == "county"
    passed = scenario.passed()
    assert {"escalate_throw", "supervision_end_escalated", "mediate_escalate_signal", "raise_level"} <= passed


# -- 回访 ------------------------------------------------------------------------------------------

def test_a_dissatisfied_party_gets_the_case_mediated_again_once(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "电梯仍未修复"})
    scenario.do("second_supervision", actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "basically_satisfied"})
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"
    completed = [e.element_id for e in scenario.events("task_completed")]
    assert completed.count("mediate") == 2 and completed.count("second_supervision") == 1
