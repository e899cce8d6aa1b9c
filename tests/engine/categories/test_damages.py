"""损害赔偿纠纷: every path of the process end to end through the engine with a fake clock.

人民调解 一般在一个月内调结 (30 日); the clock stops while 伤残/损失鉴定 runs (鉴定); an agreement may go
to 司法确认; 督办 can lift the case a level; the mediator may ask for another round (at most three) or
for a higher level.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.errors import FormInvalid
from engine.queries import deadline_state
from engine.task_clock import ClockError
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario, INTAKE, end_of_day, mediate

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
INTAKE_STEPS = ("accept", "assess", "dispatch")
DAMAGES_INTAKE = {
    **INTAKE,
    "title": "电动车碰撞致行人受伤",
    "summary": "电动车在小区内撞伤行人，双方就医疗费、误工费赔偿争执。",
    "damage_type": "personal",
    "claimed_amount": 30000,
}
ANSWERS = {
    "assess": {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般人身损害赔偿纠纷"},
    "dispatch": {"handling_level": "village", "department": "村（社区）人民调解委员会"},
    "agreement": {"agreement_terms": "骑车人赔偿医疗费、误工费共计12000元", "agreement_amount": 12000,
                  "apply_judicial_confirmation": False},
    "legal_route": {"termination_reason": "双方对赔偿数额分歧过大", "legal_route": "litigation"},
}


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="damages", intake=DAMAGES_INTAKE, answers=ANSWERS)


def test_the_intake_form_has_every_generic_field_plus_its_own():
    generic = json.loads((ROOT / "forms" / "intake.json").read_text(encoding="utf-8"))
    own = json.loads((ROOT / "forms" / "damages_intake.json").read_text(encoding="utf-8"))
    assert {k: own["properties"][k] for k in generic["properties"]} == generic["properties"]
    assert set(generic["required"]) <= set(own["required"])
    assert set(own["properties"]) - set(generic["properties"]) == {"damage_type", "claimed_amount"}


# -- 登记受理 ----------------------------------------------------------------------------------------

def test_a_registered_damages_case_waits_for_acceptance_within_one_working_day(scenario):
    case = scenario.case()
    assert (case.status, case.category_code) == ("open", "damages")
    assert case.data["damage_type"] == "personal"
    accept = scenario.task("accept")
    assert (accept.role, accept.deadline, accept.form) == ("clerk", "1 工作日", "accept")
    # 1 工作日 from Monday 2 March 2026: Tuesday 3 March.
    assert accept.due_at == end_of_day(2026, 3, 3)


def test_the_intake_form_keeps_every_generic_field_and_checks_its_own(sessions, runtime, staff, clock):
    with pytest.raises(FormInvalid):
        CaseScenario(sessions, runtime, staff, clock, category="damages", intake={**DAMAGES_INTAKE, "damage_type": "x"})
    plain = CaseScenario(sessions, runtime, staff, clock, category="damages", intake=INTAKE)
    assert plain.ready() == ["accept"]


def test_a_rejected_application_terminates_the_case_without_an_acceptance_notice(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "已起诉至人民法院"})
    assert scenario.case().status == "terminated"
    assert scenario.ready() == []
    assert "end_rejected" in scenario.passed()
    assert scenario.doc_types() == []


# -- 调处 → 协议 → 司法确认 → 结果告知 → 回访 → 归档 ---------------------------------------------------------

def test_an_agreement_with_judicial_confirmation_is_concluded_and_archived(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    assert (mediation.role, mediation.deadline, mediation.form) == ("mediator", "30 日", "mediate")
    # 30 日 from Monday 2 March 2026 ends Wednesday 1 April, a working day (人民调解 一般一个月内调结).
    assert mediation.due_at == end_of_day(2026, 4, 1)
    scenario.do("mediate", mediate("success"))
    scenario.do("agreement", {**ANSWERS["agreement"], "apply_judicial_confirmation": True})
    assert scenario.ready() == ["judicial_confirmation"]
    # Both parties apply within 30 日 of the agreement: from 2 March that is again 1 April.
    assert scenario.task("judicial_confirmation").due_at == end_of_day(2026, 4, 1)
    scenario.do("judicial_confirmation", {"confirmation_result": "confirmed", "court": "九原区人民法院"})
    scenario.do_all("notify_result", "follow_up", "archive")
    case = scenario.case()
    assert case.status == "concluded"
    assert case.data["confirmation_result"] == "confirmed"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]
    assert {"judicial_gateway", "judicial_confirmation_call", "end_archived"} <= scenario.passed()


def test_an_agreement_without_judicial_confirmation_goes_straight_to_the_result_notice(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement")
    assert scenario.ready() == ["notify_result"]
    assert "judicial_confirmation_call" not in scenario.passed()


def test_failed_mediation_ends_with_a_termination_and_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("failure")))
    assert scenario.ready() == ["legal_route"]
    scenario.do_all("legal_route", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_termination", "legal_route",
                                   "result_notice"]


def test_mediation_rounds_are_bounded_at_three(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.do("mediate", mediate("continue"))
    scenario.do("mediate", mediate("continue"))
    assert scenario.ready() == ["mediate"]
    assert scenario.case().data["mediation_round"] == 3
    scenario.do("mediate", mediate("continue"))  # the third "continue" is not honoured
    assert scenario.ready() == ["legal_route"]


# -- 分流: routing table and risk warning --------------------------------------------------------------

@pytest.mark.parametrize("colour, complexity, level, department, warned", [
    ("红", "simple", "county", "县（区）人民调解委员会", True),
    ("橙", "simple", "township", "乡镇（街道）人民调解委员会", True),
    ("黄", "complex", "township", "乡镇（街道）人民调解委员会", False),
    ("蓝", "ordinary", "village", "村（社区）人民调解委员会", False),
])
def test_routing_by_risk_and_complexity(scenario, colour, complexity, level, department, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "complexity": complexity, "assessment": "研判"})
    dispatch = scenario.task("dispatch")
    assert dispatch.role == "director"
    assert dispatch.form_defaults["handling_level"] == level
    assert dispatch.form_defaults["department"] == department
    assert ("risk_warning" in scenario.doc_types()) is warned
    assert ("risk_warning_event" in scenario.passed()) is warned


# -- 升级: the mediator asks for a higher level ---------------------------------------------------------

def test_escalation_climbs_village_township_county_then_ends_in_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.do("mediate", mediate("escalate"))
    case = scenario.case()
    assert (case.handling_level, case.department) == ("township", "乡镇（街道）人民调解委员会")
    scenario.do("mediate", mediate("escalate"))
    case = scenario.case()
    assert (case.handling_level, case.department) == ("county", "县（区）人民调解委员会")
    scenario.do("mediate", mediate("escalate"))
    assert scenario.ready() == ["legal_route"]
    assert [e.data for e in scenario.events("level_changed")] == [
        {"from": "village", "to": "township"}, {"from": "township", "to": "county"}]
    assert scenario.doc_types().count("transfer_order") == 3  # the dispatch and each 提级调处


# -- 临期, 超期 and 督办 ----------------------------------------------------------------------------------

def test_a_work_reminder_is_issued_at_eighty_percent_of_the_limit(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.warn_at - timedelta(seconds=1))
    assert scenario.sweep().fired == []
    scenario.clock.advance(seconds=2)
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("mediate_warning", "warning")]
    assert scenario.doc_types()[-1] == "work_reminder"
    assert "warning_end" in scenario.passed()
    scenario.do("mediate", mediate("success"))
    assert scenario.ready() == ["agreement"]


def test_an_overdue_mediation_is_supervised_while_the_mediator_keeps_it(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(end_of_day(2026, 4, 1) + timedelta(minutes=1))
    assert sorted(f.kind for f in scenario.sweep().fired) == ["overdue", "warning"]
    assert scenario.case().is_overdue
    assert scenario.ready() == ["mediate", "supervise"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "请三日内调结"}, actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert "supervision_end" in scenario.passed()
    assert "supervision_letter" in scenario.doc_types()
    scenario.do("mediate", mediate("success"))
    assert not scenario.case().is_overdue


def test_supervision_can_lift_an_overdue_case_to_the_township(scenario):
    scenario.do_all(*INTAKE_STEPS)
    village = scenario.task("mediate")
    scenario.clock.set(village.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "村级逾期，升级乡镇"},
                actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert scenario.task("mediate").id != village.id
    assert scenario.case().handling_level == "township"
    passed = scenario.passed()
    assert {"escalate_throw", "supervision_end_escalated", "mediate_escalate_signal", "raise_level"} <= passed
    # The new round has a fresh 30 日 from the moment of escalation (Thursday 2 April 00:00:59 → 2 May, a
    # Saturday in the 劳动节 holiday of 1–5 May → Wednesday 6 May).
    assert scenario.task("mediate").due_at == end_of_day(2026, 5, 6)


# -- 鉴定: the clock stops and the deadline moves by the paused time ----------------------------------

def test_a_pause_for_appraisal_moves_the_mediation_deadline(scenario, sessions, runtime, staff, clock):
    scenario.do_all(*INTAKE_STEPS)
    task_id = scenario.task("mediate").id
    original_due = scenario.task("mediate").due_at
    assert original_due == end_of_day(2026, 4, 1)
    with sessions() as session, pytest.raises(ClockError, match="鉴定"):
        runtime.pause_clock(session, task_id, "听证", staff)  # only 鉴定 stops this clock

    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))  # Thursday: 伤残鉴定 commissioned
    with sessions() as session:
        runtime.pause_clock(session, task_id, "鉴定", staff)
    assert deadline_state(scenario.task("mediate"), clock.now()) == "暂停"
    clock.set(original_due + timedelta(days=2))  # past the old limit: nothing fires while paused
    assert scenario.sweep().fired == []
    assert not scenario.case().is_overdue

    clock.set(datetime(2026, 4, 7, 9, 0, tzinfo=SHANGHAI))  # Tuesday after 清明: the appraisal is back
    with sessions() as session:
        runtime.resume_clock(session, task_id, staff)
    # Paused 5 March 09:00 → 7 April 09:00 = 33 days, not counted: 1 April + 33 days = Tuesday 4 May, in
    # the 劳动节 holiday (1–5 May) → Wednesday 6 May.
    moved = scenario.task("mediate").due_at
    assert moved == end_of_day(2026, 5, 6)
    assert {t.kind: t.due_at for t in scenario.timers()}["overdue"] == moved
    clock.set(moved - timedelta(minutes=1))
    assert "overdue" not in [f.kind for f in scenario.sweep().fired]
    clock.set(moved + timedelta(seconds=1))
    assert "overdue" in [f.kind for f in scenario.sweep().fired]
    assert [e.kind for e in scenario.events() if e.kind.startswith("clock_")] == ["clock_paused", "clock_resumed"]


def test_the_damages_mediation_cannot_be_extended(scenario, sessions, runtime, staff):
    scenario.do_all(*INTAKE_STEPS)
    with sessions() as session, pytest.raises(ClockError, match="cannot be extended"):
        runtime.request_extension(session, scenario.task("mediate").id, "10 日", "当事人申请", staff)


# -- 回访: 不满意 → 二次督办 → 重新调处 ---------------------------------------------------------------------

def test_a_dissatisfied_party_gets_the_case_mediated_again_once(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "赔偿款未按期支付"})
    scenario.do("second_supervision", actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert "prepare_rehandle" in scenario.passed()
    assert scenario.case().data["mediation_round"] == 1
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "仍不满意"})
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"
