"""环境污染纠纷: every path of the process end to end through the engine with a fake clock.

A 联席会议 (生态环境, 住建, 乡镇 …) comes first when several departments are involved; mediation then has
30 日 and its clock stops while the environmental damage is appraised (鉴定).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.queries import deadline_state
from engine.task_clock import ClockError
from tests.engine.scenario import CaseScenario, end_of_day, mediate

INTAKE = {
    "title": "养殖场异味及噪声扰民",
    "summary": "村民反映养殖场夜间风机噪声和异味影响休息，要求整改并赔偿。",
    "channel": "grid",
    "people_count": 12,
    "applicant_name": "刘芳",
    "applicant_phone": "13904720021",
    "respondent_name": "某养殖专业合作社",
}

ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"risk_color": "黄", "pollution_type": "noise", "involved_departments": "乡镇人民政府",
               "assessment": "噪声扰民，可先行调解"},
    "dispatch": {"handling_level": "township", "department": "乡镇人民调解委员会"},
    "agreement": {"agreement_terms": "加装隔音设施，夜间停机", "agreement_amount": 3000,
                  "apply_judicial_confirmation": False},
    "mediation_end": {"termination_reason": "对赔偿数额分歧较大", "legal_route": "litigation"},
    "notify_result": {"notice_method": "in_person"},
    "archive": {"archive_note": "归档"},
}

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
LIAISON = Actor.of("liaison", frozenset({"liaison"}), "150207", "部门联络员")
INTAKE_STEPS = ("accept", "assess", "dispatch")
THREE_DEPARTMENTS = "生态环境局,住建局,乡镇人民政府"


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="environment", intake=INTAKE, answers=ANSWERS)


def hold_meeting(scenario) -> None:
    for department in ("生态环境局", "住建局", "乡镇人民政府"):
        scenario.do("department_opinion", {"opinion": f"{department}：同意先行调解", "agrees": True}, actor=LIAISON)
    scenario.do("binding_opinion", {"binding_opinion": "生态环境局牵头监测，乡镇组织调解", "lead_department": "生态环境局"},
                actor=DIRECTOR)


# -- 受理, 研判, 分流 ----------------------------------------------------------------------------------

def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "已向法院起诉"})
    assert scenario.case().status == "terminated"
    assert scenario.ready() == []


@pytest.mark.parametrize("colour, pollution, level, department", [
    ("红", "noise", "county", "县矛盾纠纷多元化解中心"),
    ("黄", "water", "county", "县生态环境局"),
    ("蓝", "soil", "county", "县生态环境局"),
    ("橙", "noise", "township", "乡镇人民调解委员会"),
    ("黄", "solid_waste", "township", "乡镇人民调解委员会"),
])
def test_routing_table_proposes_level_and_department(scenario, colour, pollution, level, department):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "pollution_type": pollution, "assessment": "研判"})
    dispatch = scenario.task("dispatch")
    assert (dispatch.form_defaults["handling_level"], dispatch.form_defaults["department"]) == (level, department)
    assert ("risk_warning" in scenario.doc_types()) is (colour in ("红", "橙"))


# -- 联席会议 ----------------------------------------------------------------------------------------

def test_several_departments_hold_a_joint_meeting_before_mediation(scenario):
    scenario.do("accept")
    scenario.do("assess", {**ANSWERS["assess"], "pollution_type": "water", "involved_departments": THREE_DEPARTMENTS})
    scenario.do("dispatch", {"handling_level": "county", "department": "县生态环境局"})
    assert scenario.case().data["meeting_departments"] == ["生态环境局", "住建局", "乡镇人民政府"]
    opinions = scenario.ready_tasks()
    assert sorted(t.name for t in opinions) == ["部门意见（乡镇人民政府）", "部门意见（住建局）", "部门意见（生态环境局）"]
    assert {(t.role, t.deadline) for t in opinions} == {("liaison", "3 工作日")}
    hold_meeting(scenario)
    assert scenario.ready() == ["mediate"]
    assert scenario.case().data["binding_opinion"] == "生态环境局牵头监测，乡镇组织调解"


def test_one_department_goes_straight_to_mediation(scenario):
    scenario.do_all(*INTAKE_STEPS)
    assert scenario.ready() == ["mediate"]
    assert "joint_meeting_call" not in scenario.passed()
    mediation = scenario.task("mediate")
    # 30日 from Monday 2 March 2026 → Wednesday 1 April, a working day.
    assert (mediation.role, mediation.deadline, mediation.due_at) == ("mediator", "30 日", end_of_day(2026, 4, 1))


# -- outcomes ----------------------------------------------------------------------------------------

def test_successful_mediation_without_judicial_confirmation_is_archived(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]
    assert "judicial_confirmation_call" not in scenario.passed()


def test_an_agreement_can_go_to_judicial_confirmation(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")))
    scenario.do("agreement", {**ANSWERS["agreement"], "apply_judicial_confirmation": True})
    assert scenario.ready() == ["judicial_confirmation"]
    scenario.do("judicial_confirmation", {"confirmation_result": "confirmed", "court": "九原区人民法院"})
    assert scenario.ready() == ["notify_result"]


def test_failed_mediation_ends_with_termination_and_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("failure")))
    scenario.do("mediation_end")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


# -- 鉴定: the clock stops ----------------------------------------------------------------------------

def test_appraisal_pause_moves_the_deadline_across_qingming(scenario, sessions, runtime, staff):
    scenario.do_all(*INTAKE_STEPS)
    assert scenario.task("mediate").due_at == end_of_day(2026, 4, 1)
    scenario.clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))
    with sessions() as session:
        runtime.pause_clock(session, scenario.task("mediate").id, "鉴定", staff)
    assert scenario.case().is_paused
    assert deadline_state(scenario.task("mediate"), scenario.clock.now()) == "暂停"
    scenario.clock.set(datetime(2026, 3, 12, 9, 0, tzinfo=SHANGHAI))  # the appraisal report arrives 3 days later
    with sessions() as session:
        runtime.resume_clock(session, scenario.task("mediate").id, staff)
    # 1 April + 3 days paused = Saturday 4 April, in the 清明 holiday (4–6 April) → Tuesday 7 April.
    moved = scenario.task("mediate").due_at
    assert moved == end_of_day(2026, 4, 7)
    assert {t.kind: t.due_at for t in scenario.timers()}["overdue"] == moved
    assert [e.data["reason"] for e in scenario.events("clock_paused")] == ["鉴定"]


def test_a_paused_mediation_never_goes_overdue_and_resumes_later(scenario, sessions, runtime, staff):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))
    with sessions() as session:
        runtime.pause_clock(session, scenario.task("mediate").id, "鉴定", staff)
    scenario.clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI))  # past the original 1 April limit
    assert scenario.sweep().fired == []
    assert not scenario.case().is_overdue
    with sessions() as session:
        runtime.resume_clock(session, scenario.task("mediate").id, staff)
    # Paused 24 days: 1 April 23:59:59 + 24 days = Saturday 25 April; 25–26 April are a weekend → Monday 27 April.
    assert scenario.task("mediate").due_at == end_of_day(2026, 4, 27)
    scenario.clock.set(datetime(2026, 4, 27, 23, 58, tzinfo=SHANGHAI))
    assert "overdue" not in [f.kind for f in scenario.sweep().fired]
    scenario.clock.set(datetime(2026, 4, 28, 0, 1, tzinfo=SHANGHAI))
    assert [f.kind for f in scenario.sweep().fired] == ["overdue"]
    assert scenario.case().is_overdue


def test_only_appraisal_may_stop_the_mediation_clock(scenario, sessions, runtime, staff):
    scenario.do_all(*INTAKE_STEPS)
    with sessions() as session, pytest.raises(ClockError, match="鉴定"):
        runtime.pause_clock(session, scenario.task("mediate").id, "听证", staff)
    with sessions() as session, pytest.raises(ClockError, match="cannot be extended"):
        runtime.request_extension(session, scenario.task("mediate").id, "10 日", "当事人申请", staff)


# -- timers, 督办 and escalation ------------------------------------------------------------------------

def test_the_reminder_fires_at_80_percent(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.warn_at + timedelta(seconds=1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("mediate_warning", "warning")]
    assert scenario.doc_types()[-1] == "work_reminder"
    assert "warning_end" in scenario.passed()


def test_overdue_mediation_is_supervised(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    assert scenario.ready() == ["mediate", "supervise"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "尽快调结"})
    assert scenario.ready() == ["mediate"]
    assert "supervision_end" in scenario.passed()


def test_supervision_escalates_township_to_county_then_ends_in_the_legal_route(scenario):
    scenario.do_all(*INTAKE_STEPS)
    first = scenario.task("mediate")
    scenario.clock.set(first.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "乡镇逾期，提级县级"})
    assert scenario.ready() == ["mediate"]
    assert scenario.case().handling_level == "county"
    assert [e.data for e in scenario.events("level_changed")] == [{"from": "township", "to": "county"}]
    assert scenario.doc_types()[-1] == "transfer_order"
    second = scenario.task("mediate")
    assert second.id != first.id
    scenario.clock.set(second.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "县级仍未调结"})
    # Already at the county: mediation ends and the parties are told the legal route.
    assert scenario.ready() == ["mediation_end"]
    assert scenario.case().data["escalation_count"] == 1


# -- 回访 → 二次督办 ------------------------------------------------------------------------------------

def test_dissatisfied_follow_up_sends_the_case_back_to_mediation_once(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "风机仍在夜间运行"})
    scenario.do("second_supervision", {"supervision_instructions": "督促履行协议"})
    assert scenario.ready() == ["mediate"]
    assert scenario.case().data["mediation_round"] == 1  # prepare_rehandle starts the count again
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied"})
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"
