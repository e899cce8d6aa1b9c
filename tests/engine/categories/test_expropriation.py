"""征地拆迁纠纷: every path of the process end to end through the engine with a fake clock.

After 研判 and 分流, a 法律途径研判 decides where the dispute goes: 行政复议, 诉讼 or 信访 (each a guidance task
issuing a 法治化路线图), or — when both sides agree — mediation of the compensation amount, preceded by a
联席会议 when several departments are involved.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from tests.engine.scenario import CaseScenario, end_of_day, mediate

INTAKE = {
    "title": "征地补偿标准争议",
    "summary": "村民认为承包地征收补偿标准过低，拒绝交地，与镇政府发生争执。",
    "channel": "walk_in",
    "people_count": 3,
    "amount": 180000,
    "applicant_name": "王强",
    "applicant_phone": "13904720011",
    "applicant_id_number": "150207198203030016",
    "respondent_name": "某镇人民政府",
}

ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"risk_color": "黄", "group_dispute": False, "involved_departments": "自然资源局",
               "assessment": "补偿数额争议，当事人有调解意愿"},
    "dispatch": {"handling_level": "township", "department": "乡镇（街道）综治中心"},
    "review_guidance": {"act_known_on": "2026-02-20", "review_organ": "九原区人民政府", "guidance_note": "已告知60日申请期限"},
    "litigation_guidance": {"court_of_jurisdiction": "九原区人民法院", "guidance_note": "已告知起诉期限"},
    "petition_referral": {"petition_office": "九原区信访局", "referral_note": "反映安置政策问题"},
    "agreement": {"agreement_terms": "按评估价补偿，30日内支付", "agreement_amount": 210000,
                  "performance_deadline": "2026-05-01"},
    "mediation_end": {"termination_reason": "对补偿数额分歧过大", "legal_route": "administrative_review"},
    "notify_result": {"notice_method": "phone"},
    "archive": {"archive_note": "归档"},
}

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
LIAISON = Actor.of("liaison", frozenset({"liaison"}), "150207", "部门联络员")
INTAKE_STEPS = ("accept", "assess", "dispatch")


def review(route: str) -> dict:
    return {"route_decision": route, "review_note": f"研判：{route}", "contested_act": "征收补偿决定"}


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="expropriation", intake=INTAKE, answers=ANSWERS)


def to_mediation(scenario, departments: str = "自然资源局") -> None:
    scenario.do("accept")
    scenario.do("assess", {**ANSWERS["assess"], "involved_departments": departments})
    scenario.do("dispatch")
    scenario.do("legal_review", review("mediation"))


# -- 受理 -------------------------------------------------------------------------------------------

def test_a_rejected_application_terminates_the_case(scenario):
    assert scenario.ready() == ["accept"]
    accept = scenario.task("accept")
    # 1 工作日 from Monday 2 March 2026 (the start day is not counted) → Tuesday 3 March.
    assert (accept.role, accept.deadline, accept.due_at) == ("clerk", "1 工作日", end_of_day(2026, 3, 3))
    scenario.do("accept", {"accepted": False, "reject_reason": "已进入诉讼程序"})
    assert scenario.case().status == "terminated"
    assert scenario.ready() == []
    assert scenario.doc_types() == []


# -- 研判 and 分流 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("colour, group, level, department", [
    ("红", False, "county", "县矛盾纠纷多元化解中心"),
    ("黄", True, "county", "县矛盾纠纷多元化解中心"),
    ("橙", False, "township", "乡镇（街道）综治中心"),
    ("蓝", False, "township", "乡镇（街道）综治中心"),
])
def test_routing_table_proposes_level_and_department(scenario, colour, group, level, department):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "group_dispute": group, "assessment": "研判"})
    dispatch = scenario.task("dispatch")
    assert (dispatch.form_defaults["handling_level"], dispatch.form_defaults["department"]) == (level, department)
    assert ("risk_warning" in scenario.doc_types()) is (colour in ("红", "橙"))
    assert scenario.doc_types()[0] == "acceptance_notice"


def test_dispatch_issues_a_transfer_order_and_opens_the_legal_review(scenario):
    scenario.do_all(*INTAKE_STEPS)
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order"]
    legal_review = scenario.task("legal_review")
    # 3 工作日 from Monday 2 March: 3, 4, 5 March → Thursday 5 March.
    assert (legal_review.role, legal_review.deadline, legal_review.due_at) == (
        "analyst", "3 工作日", end_of_day(2026, 3, 5))


def test_the_legal_review_limit_counts_working_days_across_national_day(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI))  # Tuesday 29 September 2026
    case = CaseScenario(sessions, runtime, staff, clock, category="expropriation", intake=INTAKE, answers=ANSWERS)
    case.do_all(*INTAKE_STEPS)
    # 3 工作日 from Tue 29 Sep: Wed 30 Sep (1); 1–7 Oct 国庆 rest days; Thu 8 Oct (2), Fri 9 Oct (3) → 9 October.
    assert case.task("legal_review").due_at == end_of_day(2026, 10, 9)


# -- routing out: 行政复议 / 诉讼 / 信访 ---------------------------------------------------------------

@pytest.mark.parametrize("route, task, legal_route, documents", [
    ("administrative_review", "review_guidance", "administrative_review", ["legal_route"]),
    ("litigation", "litigation_guidance", "litigation", ["legal_route"]),
    ("petition", "petition_referral", "other", ["transfer_order", "legal_route"]),
])
def test_routing_out_guides_the_party_and_issues_the_legal_route(scenario, route, task, legal_route, documents):
    scenario.do_all(*INTAKE_STEPS)
    scenario.do("legal_review", review(route))
    assert scenario.ready() == [task]
    guidance = scenario.task(task)
    deadline = "3 工作日" if task == "petition_referral" else "5 工作日"
    assert (guidance.role, guidance.deadline) == ("analyst", deadline)
    before = len(scenario.documents())
    scenario.do(task)
    issued = scenario.documents()[before:]
    assert [d.doc_type for d in issued] == documents
    assert issued[-1].data["data"]["legal_route"] == legal_route
    assert scenario.ready() == ["notify_result"]
    scenario.do_all("notify_result", "follow_up", "archive")
    case = scenario.case()
    assert case.status == "concluded"
    assert scenario.doc_types()[-1] == "result_notice"
    assert "meeting_gateway" not in scenario.passed()


def test_review_guidance_is_due_in_five_working_days(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.do("legal_review", review("administrative_review"))
    # 5 工作日 from Monday 2 March: 3, 4, 5, 6 and Monday 9 March (7–8 March is a weekend) → 9 March.
    # (The 60日 复议 application period itself belongs to the party and is stated in the guidance.)
    assert scenario.task("review_guidance").due_at == end_of_day(2026, 3, 9)


# -- mediation of the compensation amount ----------------------------------------------------------

def test_mediation_with_one_department_needs_no_joint_meeting_and_ends_in_an_agreement(scenario):
    to_mediation(scenario)
    assert scenario.ready() == ["mediate"]
    mediation = scenario.task("mediate")
    # 30日 from Monday 2 March: Wednesday 1 April 2026, a working day.
    assert (mediation.role, mediation.deadline, mediation.due_at) == ("mediator", "30 日", end_of_day(2026, 4, 1))
    assert "joint_meeting_call" not in scenario.passed()
    scenario.do("mediate", mediate("success"))
    scenario.do_all("agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]
    completed = [e.element_id for e in scenario.events("task_completed")]
    assert completed == ["accept", "assess", "dispatch", "legal_review", "mediate", "agreement", "notify_result",
                         "follow_up", "archive"]


def test_several_departments_meet_before_mediation(scenario):
    to_mediation(scenario, departments="自然资源局，住建局、 乡镇人民政府,")
    assert scenario.case().data["meeting_departments"] == ["自然资源局", "住建局", "乡镇人民政府"]
    opinions = scenario.ready_tasks()
    assert sorted(t.name for t in opinions) == ["部门意见（乡镇人民政府）", "部门意见（住建局）", "部门意见（自然资源局）"]
    for _ in range(3):
        scenario.do("department_opinion", {"opinion": "同意按评估价调解", "agrees": True}, actor=LIAISON)
    scenario.do("binding_opinion", {"binding_opinion": "由自然资源局牵头调解补偿数额", "lead_department": "自然资源局"},
                actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    data = scenario.case().data
    assert (data["joint_meeting_count"], data["lead_department"]) == (1, "自然资源局")
    assert [o["department"] for o in data["department_opinions"]] == ["自然资源局", "住建局", "乡镇人民政府"]


def test_failed_mediation_ends_with_termination_and_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("failure"))
    assert scenario.ready() == ["mediation_end"]
    scenario.do("mediation_end")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


# -- timers ----------------------------------------------------------------------------------------

def test_the_reminder_fires_at_80_percent_and_issues_a_work_reminder(scenario):
    to_mediation(scenario)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.warn_at - timedelta(seconds=1))
    assert scenario.sweep().fired == []
    scenario.clock.advance(seconds=2)
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("mediate_warning", "warning")]
    assert scenario.doc_types()[-1] == "work_reminder"
    assert scenario.ready() == ["mediate"]
    assert "warning_end" in scenario.passed()


def test_overdue_mediation_is_supervised_and_the_mediator_keeps_it(scenario):
    to_mediation(scenario)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    assert sorted(f.kind for f in scenario.sweep().fired) == ["overdue", "warning"]
    assert scenario.case().is_overdue
    assert scenario.ready() == ["mediate", "supervise"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "三日内调结"})
    assert scenario.ready() == ["mediate"]
    assert "supervision_end" in scenario.passed()
    scenario.do("mediate", mediate("success"))
    assert not scenario.case().is_overdue
    assert scenario.ready() == ["agreement"]


def test_escalating_supervision_ends_the_mediation_and_routes_out(scenario):
    to_mediation(scenario)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "久调不决，转法定途径"})
    assert scenario.ready() == ["mediation_end"]
    assert [e.task_id for e in scenario.events("task_cancelled")] == [mediation.id]
    assert {"escalate_throw", "supervision_end_escalated"} <= scenario.passed()
    scenario.do("mediation_end")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]


# -- 回访 → 二次督办 → handled again ------------------------------------------------------------------

def test_dissatisfied_follow_up_reopens_the_legal_review_without_a_second_meeting(scenario):
    to_mediation(scenario, departments="自然资源局,住建局")
    for _ in range(2):
        scenario.do("department_opinion", {"opinion": "同意", "agrees": True}, actor=LIAISON)
    scenario.do("binding_opinion", {"binding_opinion": "自然资源局牵头", "lead_department": "自然资源局"}, actor=DIRECTOR)
    scenario.do("mediate", mediate("success"))
    scenario.do_all("agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "补偿款未到位"})
    scenario.do("second_supervision", {"supervision_instructions": "重新研判处理途径"})
    assert scenario.ready() == ["legal_review"]
    scenario.do("legal_review", review("mediation"))
    # The 联席会议 already gave its binding opinion: no second meeting.
    assert scenario.ready() == ["mediate"]
    assert scenario.case().data["mediation_round"] == 1
    scenario.do("mediate", mediate("success"))
    scenario.do_all("agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied"})
    assert scenario.ready() == ["archive"]  # one 二次督办 only
    scenario.do("archive")
    assert scenario.case().status == "concluded"
    completed = [e.element_id for e in scenario.events("task_completed")]
    assert completed.count("binding_opinion") == 1
