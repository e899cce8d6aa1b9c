"""婚姻家庭纠纷: every path of the process end to end through the runtime with a fake clock.

人民调解 一个月 (若干规定 第33条) is `30 日`, extendable once by 30 日 with both parties' consent.
Domestic violence goes first to 协助申请人身安全保护令: 72 小时, or 24 小时 when urgent (反家庭暴力法
第28条); hour limits are elapsed time, not working time.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.task_clock import ClockError
from tests.engine.scenario import CaseScenario, mediate

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
MANAGER = Actor.of("manager", frozenset({"manager"}), "150200", "包头市委政法委")

INTAKE = {
    "title": "夫妻因家庭开支争吵要求调解",
    "summary": "丈夫长期不承担家庭开支，双方多次争吵，妻子要求调解抚养费和财产问题。",
    "channel": "walk_in",
    "people_count": 2,
    "applicant_name": "王芳",
    "applicant_phone": "13904720002",
    "applicant_id_number": "150207199001010028",
    "respondent_name": "刘强",
}
NO_VIOLENCE = {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般家庭矛盾",
               "domestic_violence": False, "urgent": False}
VIOLENCE = {"risk_color": "黄", "complexity": "ordinary", "assessment": "申请人陈述遭受殴打",
            "domestic_violence": True, "urgent": False}
URGENT_VIOLENCE = {**VIOLENCE, "urgent": True, "assessment": "申请人面临现实危险"}
ANSWERS = {
    "assess": NO_VIOLENCE,
    "guidance": {"legal_route": "litigation", "legal_aid": True, "guidance_note": "告知可向人民法院起诉离婚"},
}
FILED_AND_MEDIATE = {"protection_order_filed": True, "protection_court": "九原区人民法院",
                     "wants_mediation": True}
FILED_NO_MEDIATION = {"protection_order_filed": True, "protection_court": "九原区人民法院",
                      "wants_mediation": False, "protection_note": "已陪同申请人递交申请"}


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="marriage_family", intake=INTAKE, answers=ANSWERS)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def dispatch_as_routed(scenario) -> dict:
    """The director accepts what the routing table proposed."""
    proposal = scenario.task("dispatch").form_defaults
    scenario.do("dispatch", {"handling_level": proposal["handling_level"], "department": proposal["department"]})
    return proposal


def to_mediation(scenario, assessment=None) -> None:
    scenario.do("accept")
    scenario.do("assess", assessment or NO_VIOLENCE)
    dispatch_as_routed(scenario)
    assert scenario.ready() == ["mediate"]


# -- acceptance ------------------------------------------------------------------------------------

def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "不属于人民调解受理范围"})
    assert scenario.case().status == "terminated"
    assert scenario.ready() == []
    assert "acceptance_notice_event" not in scenario.passed()
    assert scenario.doc_types() == []


def test_a_case_without_violence_goes_straight_to_routing_and_mediation_and_is_archived(scenario):
    scenario.do("accept")
    scenario.do("assess")
    assert scenario.ready() == ["dispatch"]
    passed = scenario.passed()
    assert "violence_gateway" in passed and "route" in passed
    assert not {"urgency_gateway", "protection_order", "protection_order_urgent"} & passed
    proposal = dispatch_as_routed(scenario)
    assert proposal == {"handling_level": "village", "department": "村人民调解委员会"}
    mediation = scenario.task("mediate")
    assert mediation.role == "mediator"
    assert mediation.deadline == "30 日"
    # 30 日 from Monday 2 March 2026: 2 March + 30 days = Wednesday 1 April, a working day.
    assert mediation.due_at == at(2026, 4, 1, 23, 59, 59)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    case = scenario.case()
    assert case.status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]
    assert scenario.timers() == []


# -- domestic violence: 人身安全保护令 before anything else -----------------------------------------------

def test_urgent_violence_gets_a_24_hour_protection_order_task_that_crosses_midnight(scenario):
    scenario.do("accept")
    scenario.clock.set(at(2026, 3, 2, 20, 30))
    scenario.do("assess", URGENT_VIOLENCE)
    assert scenario.ready() == ["protection_order_urgent"]
    task = scenario.task("protection_order_urgent")
    assert task.role == "mediator" and task.deadline == "24 小时"
    # 24 小时 are elapsed hours: Monday 2 March 20:30 + 24 h = Tuesday 3 March 20:30, across midnight.
    assert task.due_at == at(2026, 3, 3, 20, 30)
    # 临期 at 80 %: 0.8 × 24 h = 19 h 12 min after Monday 20:30 → Tuesday 15:42.
    assert task.warn_at == at(2026, 3, 3, 15, 42)
    # Nothing was dispatched or warned before the protection order: only the acceptance notice exists.
    assert scenario.doc_types() == ["acceptance_notice"]
    assert "route" not in scenario.passed()

    scenario.clock.set(at(2026, 3, 3, 15, 42, 1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("protection_order_urgent_warning", "warning")]
    assert scenario.doc_types()[-1] == "work_reminder"
    scenario.clock.set(at(2026, 3, 3, 20, 30, 1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("protection_order_urgent_overdue", "overdue")]
    assert scenario.case().is_overdue
    assert scenario.ready() == ["protection_order_urgent"]  # the mediator keeps the task

    scenario.do("protection_order_urgent", FILED_NO_MEDIATION)
    assert not scenario.case().is_overdue
    assert scenario.ready() == ["guidance"]
    assert scenario.task("guidance").deadline == "3 工作日"
    scenario.do("guidance")
    assert scenario.ready() == ["notify_result"]
    # The applicant declined mediation: a 法治化路线图, but no 调解终结书 (nothing was mediated).
    assert "legal_route" in scenario.doc_types()
    assert "mediation_termination" not in scenario.doc_types()
    assert "transfer_order" not in scenario.doc_types()
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_violence_gets_a_72_hour_protection_order_task_that_runs_through_the_weekend(scenario):
    scenario.do("accept")
    scenario.clock.set(at(2026, 3, 6, 15, 0))  # Friday afternoon
    scenario.do("assess", VIOLENCE)
    assert scenario.ready() == ["protection_order"]
    task = scenario.task("protection_order")
    assert task.deadline == "72 小时"
    # 72 小时 from Friday 6 March 15:00: Saturday and Sunday count (hours are not working days) →
    # Monday 9 March 15:00.
    assert task.due_at == at(2026, 3, 9, 15, 0)
    # 临期 at 0.8 × 72 h = 57 h 36 min → Monday 9 March 00:36.
    assert task.warn_at == at(2026, 3, 9, 0, 36)

    scenario.clock.set(at(2026, 3, 9, 15, 1))
    assert sorted((f.element_id, f.kind) for f in scenario.sweep().fired) == [
        ("protection_order_overdue", "overdue"), ("protection_order_warning", "warning")]
    assert scenario.case().is_overdue
    assert "protection_order_overdue_end" in scenario.passed()

    scenario.do("protection_order", FILED_AND_MEDIATE)
    # The applicant still wants mediation: routing now; violence keeps the case out of the village.
    assert scenario.ready() == ["dispatch"]
    proposal = dispatch_as_routed(scenario)
    assert proposal == {"handling_level": "township", "department": "乡镇人民调解委员会"}
    scenario.do("mediate", mediate("success"))
    scenario.do("agreement", {"agreement_terms": "男方每月支付抚养费2000元", "apply_judicial_confirmation": True})
    assert scenario.ready() == ["judicial_confirmation"]
    scenario.do("judicial_confirmation", {"confirmation_result": "confirmed", "court": "九原区人民法院"})
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "work_reminder", "transfer_order", "mediation_agreement",
                                   "result_notice"]


def test_a_declined_mediation_is_guided_again_after_a_second_supervision(scenario):
    scenario.do("accept")
    scenario.do("assess", VIOLENCE)
    scenario.do("protection_order", FILED_NO_MEDIATION)
    scenario.do_all("guidance", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "未告知法律援助"})
    scenario.do("second_supervision")
    # 重新办理 means guiding again, not mediating against the applicant's will.
    assert scenario.ready() == ["guidance"]
    scenario.do_all("guidance", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "仍不满意"})
    assert scenario.ready() == ["archive"]  # one 二次督办 only
    scenario.do("archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types().count("legal_route") == 2


# -- routing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("colour, complexity, level, department, warned", [
    ("红", "ordinary", "county", "县婚姻家庭纠纷人民调解委员会", True),
    ("橙", "simple", "township", "乡镇人民调解委员会", True),
    ("黄", "complex", "township", "乡镇人民调解委员会", False),
    ("蓝", "simple", "village", "村人民调解委员会", False),
])
def test_routing_by_risk_and_complexity(scenario, colour, complexity, level, department, warned):
    scenario.do("accept")
    scenario.do("assess", {**NO_VIOLENCE, "risk_color": colour, "complexity": complexity})
    assert dispatch_as_routed(scenario) == {"handling_level": level, "department": department}
    assert ("risk_warning" in scenario.doc_types()) is warned
    assert ("risk_warning_event" in scenario.passed()) is warned


# -- mediation -------------------------------------------------------------------------------------

def test_failed_mediation_ends_with_a_termination_and_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("failure"))
    assert scenario.ready() == ["legal_route"]
    scenario.do("legal_route")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_mediation_rounds_are_bounded_at_three(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("continue"))
    scenario.do("mediate", mediate("continue"))
    assert scenario.ready() == ["mediate"]
    scenario.do("mediate", mediate("continue"))
    assert scenario.ready() == ["legal_route"]


def test_the_mediator_escalates_village_township_county_then_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("escalate"))
    assert (scenario.case().handling_level, scenario.case().department) == ("township", "乡镇人民调解委员会")
    scenario.do("mediate", mediate("escalate"))
    assert (scenario.case().handling_level, scenario.case().department) == ("county", "县婚姻家庭纠纷人民调解委员会")
    scenario.do("mediate", mediate("escalate"))
    assert scenario.ready() == ["legal_route"]
    assert [e.data for e in scenario.events("level_changed")] == [
        {"from": "village", "to": "township"}, {"from": "township", "to": "county"}]
    assert scenario.doc_types().count("transfer_order") == 3  # dispatch + two 提级


def test_the_mediation_reminder_then_overdue_supervision_that_continues(scenario):
    to_mediation(scenario)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.warn_at + timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["warning"]
    assert scenario.doc_types()[-1] == "work_reminder"
    scenario.clock.set(mediation.due_at + timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["overdue"]
    assert scenario.case().is_overdue
    assert scenario.ready() == ["mediate", "supervise"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "三日内办结"})
    assert "supervision_end" in scenario.passed()
    assert scenario.doc_types()[-1] == "supervision_letter"
    scenario.do("mediate", mediate("success"))
    assert not scenario.case().is_overdue


def test_the_supervisor_escalates_an_overdue_mediation_to_the_township(scenario):
    to_mediation(scenario)
    first = scenario.task("mediate")
    scenario.clock.set(first.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "村级逾期，升级乡镇"})
    assert scenario.ready() == ["mediate"]
    assert scenario.task("mediate").id != first.id
    assert scenario.case().handling_level == "township"
    assert {"escalate_throw", "supervision_end_escalated", "mediate_escalate_signal", "raise_level"} <= scenario.passed()


def test_the_supervisor_may_refer_an_overdue_case_to_a_leader(scenario):
    to_mediation(scenario)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "refer_leader", "supervision_note": "提请领导包案"})
    scenario.do("leader_instruction", {"leader_instruction": "由妇联和司法所共同化解"}, actor=MANAGER)
    assert scenario.ready() == ["mediate"]
    assert scenario.case().handling_level == "village"


def test_both_parties_consent_extends_the_month_once_by_30_days(scenario, sessions, runtime, staff):
    to_mediation(scenario)
    task_id = scenario.task("mediate").id
    with sessions() as session, pytest.raises(ClockError, match="at most 30 日"):
        runtime.request_extension(session, task_id, "31 日", "双方同意", staff)
    with sessions() as session, pytest.raises(ClockError):
        runtime.pause_clock(session, task_id, "鉴定", staff)  # 人民调解 has no statutory pause
    with sessions() as session:
        request = runtime.request_extension(session, task_id, "30 日", "双方当事人同意延长调解期限", staff)
    with sessions() as session:
        runtime.decide_extension(session, request.id, True, "同意", DIRECTOR)
    # 30 日 from Wednesday 1 April: 1 May is 劳动节 (1–5 May off) → Wednesday 6 May 2026.
    assert scenario.task("mediate").due_at == at(2026, 5, 6, 23, 59, 59)
    assert {t.kind: t.due_at for t in scenario.timers()}["overdue"] == at(2026, 5, 6, 23, 59, 59)
    assert scenario.doc_types()[-1] == "extension_notice"
    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        runtime.request_extension(session, task_id, "10 日", "再次延长", staff)


def test_a_dissatisfied_party_gets_the_mediation_handled_again(scenario):
    to_mediation(scenario)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "协议未履行"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    assert "prepare_rehandle" in scenario.passed()
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
