"""医疗纠纷: the 医疗纠纷人民调解委员会 accepts within 5 工作日 and mediates within 30 工作日 (医疗纠纷预防和
处理条例 第42条); 医疗损害鉴定 time is not counted (the clock pauses for 鉴定); when 30 工作日 pass without
an agreement the mediation is deemed failed (视为调解不成) and ends in a 调解终结书 and the legal route.
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
MEDICAL_INTAKE = {
    **INTAKE,
    "title": "术后感染赔偿纠纷",
    "summary": "患者术后感染二次手术，家属认为医院存在过错，要求赔偿。",
    "institution_name": "九原区某医院",
    "patient_name": "张伟",
}
ANSWERS = {
    "assess": {"risk_color": "黄", "complexity": "complex", "assessment": "需医疗损害鉴定"},
    "dispatch": {"handling_level": "county", "department": "县（区）医疗纠纷人民调解委员会"},
    "agreement": {"agreement_terms": "医院一次性补偿患者8万元", "agreement_amount": 80000},
    "termination": {"termination_reason": "医院不同意赔偿方案", "legal_route": "litigation"},
}
EXPIRED_REASON = "自受理之日起30个工作日内未达成调解协议，视为调解不成（《医疗纠纷预防和处理条例》第四十二条）"


def open_case(sessions, runtime, staff, clock, intake=None):
    return CaseScenario(sessions, runtime, staff, clock, category="medical", intake=intake or MEDICAL_INTAKE,
                        answers=ANSWERS)


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return open_case(sessions, runtime, staff, clock)


# -- 受理 ------------------------------------------------------------------------------------------

def test_the_intake_names_the_medical_institution(sessions, runtime, staff, clock):
    without = {k: v for k, v in MEDICAL_INTAKE.items() if k != "institution_name"}
    with pytest.raises(FormInvalid):
        open_case(sessions, runtime, staff, clock, intake=without)


def test_the_intake_form_has_every_generic_field_plus_its_own():
    generic = json.loads((ROOT / "forms" / "intake.json").read_text(encoding="utf-8"))
    own = json.loads((ROOT / "forms" / "medical_intake.json").read_text(encoding="utf-8"))
    assert {k: own["properties"][k] for k in generic["properties"]} == generic["properties"]
    assert set(generic["required"]) <= set(own["required"])
    assert set(own["properties"]) - set(generic["properties"]) == {"institution_name", "patient_name"}


def test_acceptance_within_five_working_days_across_the_spring_festival(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 2, 11, 10, 0, tzinfo=SHANGHAI))  # Wednesday before 春节
    case = open_case(sessions, runtime, staff, clock)
    accept = case.task("accept")
    assert (accept.role, accept.deadline) == ("clerk", "5 工作日")
    # 5 工作日 from Wednesday 11 February 2026: Thu 12, Fri 13, Saturday 14 (a make-up working day) = 3;
    # 15–23 February is the 春节 holiday; Tue 24 = 4, Wed 25 = 5 → Wednesday 25 February.
    assert accept.due_at == end_of_day(2026, 2, 25)


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "已申请卫生健康主管部门行政调解"})
    assert scenario.case().status == "terminated"
    assert "end_rejected" in scenario.passed()
    assert scenario.doc_types() == []


@pytest.mark.parametrize("colour, department, warned", [
    ("红", "县（区）医疗纠纷人民调解委员会（公安、卫健联合调处）", True),
    ("橙", "县（区）医疗纠纷人民调解委员会（卫健部门参与）", True),
    ("黄", "县（区）医疗纠纷人民调解委员会", False),
])
def test_routing_sends_every_case_to_the_medical_committee(scenario, colour, department, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "complexity": "ordinary", "assessment": "研判"})
    dispatch = scenario.task("dispatch")
    assert (dispatch.role, dispatch.form_defaults["handling_level"]) == ("director", "county")
    assert dispatch.form_defaults["department"] == department
    assert ("risk_warning" in scenario.doc_types()) is warned


# -- 调解: 30 工作日 ------------------------------------------------------------------------------------

def test_thirty_working_days_across_the_spring_festival(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 2, 2, 9, 0, tzinfo=SHANGHAI))  # Monday
    case = open_case(sessions, runtime, staff, clock)
    case.do_all(*INTAKE_STEPS)
    mediation = case.task("mediate")
    assert (mediation.role, mediation.deadline) == ("mediator", "30 工作日")
    # From Monday 2 February 2026: 3–6 Feb = 4; 9–13 Feb = 9; Saturday 14 Feb (make-up) = 10;
    # 15–23 Feb 春节 holiday; 24–27 Feb = 14; Saturday 28 Feb (make-up) = 15; 2–6 Mar = 20;
    # 9–13 Mar = 25; 16–20 Mar = 30 → Friday 20 March.
    assert mediation.due_at == end_of_day(2026, 3, 20)
    assert {t.element_id: t.due_at for t in case.timers()}["mediate_expired"] == end_of_day(2026, 3, 20)


def test_thirty_working_days_across_national_day(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 9, 14, 9, 0, tzinfo=SHANGHAI))  # Monday
    case = open_case(sessions, runtime, staff, clock)
    case.do_all(*INTAKE_STEPS)
    mediation = case.task("mediate")
    # From Monday 14 September 2026: 15–18 Sep = 4; Sunday 20 Sep (make-up) = 5; 21–24 Sep = 9;
    # Friday 25 Sep is 中秋节 (off); 28–30 Sep = 12; 1–7 Oct 国庆 holiday; Thu 8, Fri 9 Oct = 14;
    # Saturday 10 Oct (make-up) = 15; 12–16 Oct = 20; 19–23 Oct = 25; 26–30 Oct = 30 → Friday 30 October.
    assert mediation.due_at == end_of_day(2026, 10, 30)
    share = (mediation.warn_at - mediation.created_at) / (mediation.due_at - mediation.created_at)
    assert share == pytest.approx(0.8, abs=1e-6)


def test_an_agreement_is_told_followed_up_and_archived(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result", "follow_up",
                    "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]
    assert scenario.timers() == []


def test_a_failed_mediation_ends_with_a_termination_and_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("failure")))
    assert scenario.ready() == ["termination"]
    scenario.do_all("termination", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_termination", "legal_route",
                                   "result_notice"]
    assert "mark_expired" not in scenario.passed()


# -- 期满: 视为调解不成 ---------------------------------------------------------------------------------

def test_thirty_working_days_without_agreement_end_the_mediation(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    # 30 工作日 from Monday 2 March 2026: 3–31 March = 21; 1–3 April = 24; 4–6 April 清明 holiday;
    # 7–10 April = 28; Mon 13 = 29; Tue 14 April = 30.
    assert mediation.due_at == end_of_day(2026, 4, 14)
    scenario.clock.set(mediation.due_at - timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["warning"]
    assert scenario.ready() == ["mediate"]
    scenario.clock.set(mediation.due_at + timedelta(seconds=1))
    fired = {f.element_id for f in scenario.sweep().fired}
    assert fired == {"mediate_expired", "mediate_overdue"}
    # The mediation is withdrawn; the 调解终结 step opens with the reason filled in; 督办 looks at the case.
    assert scenario.ready() == ["supervise", "termination"]
    assert [e.element_id for e in scenario.events("task_cancelled")] == ["mediate"]
    termination = scenario.task("termination")
    assert termination.form_defaults["termination_reason"] == EXPIRED_REASON
    assert scenario.case().data["mediation_outcome"] == "failure"
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "依法告知当事人其他途径"},
                actor=DIRECTOR)
    assert "supervision_end" in scenario.passed()
    scenario.do("termination", {"termination_reason": EXPIRED_REASON, "legal_route": "litigation"})
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "work_reminder", "supervision_letter",
                                   "mediation_termination", "legal_route", "result_notice"]
    [termination_doc] = [d for d in scenario.documents() if d.doc_type == "mediation_termination"]
    assert "视为调解不成" in termination_doc.html


def test_supervision_may_report_an_expired_case_to_the_health_commission(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(seconds=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "重大医疗纠纷，报告卫健"},
                actor=DIRECTOR)
    report = scenario.task("report_health_commission")
    assert (report.role, report.deadline) == ("director", "1 工作日")
    scenario.do("report_health_commission", {"report_department": "九原区卫生健康委员会",
                                             "report_content": "调解期满未达成协议，存在信访风险"}, actor=DIRECTOR)
    assert "report_end" in scenario.passed()
    assert scenario.ready() == ["termination"]


# -- 鉴定: the appraisal time is not counted --------------------------------------------------------------

def test_the_appraisal_time_is_not_counted(scenario, sessions, runtime, staff, clock):
    scenario.do_all(*INTAKE_STEPS)
    task_id = scenario.task("mediate").id
    assert scenario.task("mediate").due_at == end_of_day(2026, 4, 14)
    with sessions() as session, pytest.raises(ClockError, match="鉴定"):
        runtime.pause_clock(session, task_id, "听证", staff)

    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))  # Monday: 医疗损害鉴定 commissioned
    with sessions() as session:
        runtime.pause_clock(session, task_id, "鉴定", staff)
    assert deadline_state(scenario.task("mediate"), clock.now()) == "暂停"

    clock.set(datetime(2026, 3, 23, 9, 0, tzinfo=SHANGHAI))  # Monday: the appraisal opinion arrives
    with sessions() as session:
        runtime.resume_clock(session, task_id, staff)
    # Paused Monday 9 March 09:00 → Monday 23 March 09:00: 14 days, the 10 working days 9–13 and 16–20
    # March. 14 April + 14 days = Tuesday 28 April; counted in working days the same: 15–17, 20–24,
    # 27, 28 April are the 10 working days after 14 April.
    moved = scenario.task("mediate").due_at
    assert moved == end_of_day(2026, 4, 28)
    assert {t.element_id: t.due_at for t in scenario.timers()}["mediate_expired"] == moved
    clock.set(moved - timedelta(minutes=1))
    scenario.sweep()
    assert "mediate" in scenario.ready()
    clock.set(moved + timedelta(seconds=1))
    scenario.sweep()
    assert scenario.ready() == ["supervise", "termination"]


def test_a_paused_mediation_does_not_expire_at_its_old_limit(scenario, sessions, runtime, staff, clock):
    scenario.do_all(*INTAKE_STEPS)
    with sessions() as session:
        runtime.pause_clock(session, scenario.task("mediate").id, "鉴定", staff)
    clock.set(end_of_day(2026, 4, 14) + timedelta(days=10))  # the appraisal is still running
    assert scenario.sweep().fired == []
    assert scenario.ready() == ["mediate"]
    case = scenario.case()
    assert case.is_paused and not case.is_overdue
    assert deadline_state(scenario.task("mediate"), clock.now()) == "暂停"


# -- 回访 -----------------------------------------------------------------------------------------------

def test_a_dissatisfied_party_gets_the_case_mediated_again_once(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "补偿款未到账"})
    scenario.do("second_supervision", actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    assert scenario.task("mediate").deadline == "30 工作日"
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "satisfied"})
    scenario.do("archive")
    assert scenario.case().status == "concluded"
