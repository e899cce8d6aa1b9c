"""房屋宅基地纠纷: every path of the process end to end through the runtime with a fake clock.

人民调解 一个月 (若干规定 第33条) is `30 日`, extendable once by 30 日 with both parties' consent. When
ownership or the boundary is unclear the case is not mediated: the parties are guided to apply to the
乡镇人民政府 for 确权 (土地管理法 第14条) within `5 工作日` ([U] configurable default).
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
    "title": "宅基地院墙越界争议",
    "summary": "东邻翻建院墙占用申请人宅基地约半米，双方争执不下。",
    "channel": "grid",
    "people_count": 2,
    "applicant_name": "赵刚",
    "applicant_phone": "13904720003",
    "respondent_name": "孙海",
}
CLEAR = {"risk_color": "黄", "complexity": "ordinary", "assessment": "界址清楚，属相邻关系纠纷",
         "ownership_unclear": False}
UNCLEAR = {"risk_color": "黄", "complexity": "complex", "assessment": "两户宅基地证四至重叠",
           "ownership_unclear": True}
REFERRAL = {"referral_authority": "哈林格尔镇人民政府", "legal_route": "other",
            "referral_note": "告知持宅基地使用证向镇人民政府申请确权"}
ANSWERS = {"assess": CLEAR, "ownership_referral": REFERRAL}


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="homestead", intake=INTAKE, answers=ANSWERS)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def to_mediation(scenario, assessment=None) -> None:
    scenario.do("accept")
    scenario.do("assess", assessment or CLEAR)
    scenario.dispatch_as_routed()
    assert scenario.ready() == ["mediate"]


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "已由人民法院受理"})
    assert scenario.case().status == "terminated"
    assert scenario.ready() == []
    assert scenario.doc_types() == []


def test_clear_ownership_is_mediated_and_archived(scenario):
    to_mediation(scenario)
    mediation = scenario.task("mediate")
    # 30 日 from Monday 2 March 2026 → Wednesday 1 April, a working day.
    assert mediation.due_at == at(2026, 4, 1, 23, 59, 59)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert "ownership_referral" not in scenario.passed()
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]


# -- 引导确权 -----------------------------------------------------------------------------------------

def test_unclear_ownership_is_guided_to_the_township_government_across_qingming(scenario):
    scenario.do("accept")
    scenario.clock.set(at(2026, 4, 2, 10, 0))  # Thursday before 清明
    scenario.do("assess", UNCLEAR)
    assert scenario.ready() == ["ownership_referral"]
    referral = scenario.task("ownership_referral")
    assert referral.role == "mediator" and referral.deadline == "5 工作日"
    # 5 工作日 from Thursday 2 April: Fri 3 April (1); 4–6 April 清明 off; Tue 7 (2), Wed 8 (3),
    # Thu 9 (4), Fri 10 April (5).
    assert referral.due_at == at(2026, 4, 10, 23, 59, 59)
    scenario.do("ownership_referral")
    assert scenario.ready() == ["notify_result"]
    assert scenario.doc_types() == ["acceptance_notice", "legal_route"]  # no mediation, no transfer
    assert "dispatch" not in scenario.passed()
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types()[-1] == "result_notice"


def test_high_risk_unclear_ownership_is_warned_before_the_referral(scenario):
    scenario.do("accept")
    scenario.do("assess", {**UNCLEAR, "risk_color": "橙", "assessment": "双方扬言动手"})
    assert scenario.ready() == ["ownership_referral"]
    assert scenario.doc_types() == ["acceptance_notice", "risk_warning"]


def test_a_dissatisfied_party_is_guided_again_after_a_second_supervision(scenario):
    scenario.do("accept")
    scenario.do("assess", UNCLEAR)
    scenario.do_all("ownership_referral", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "不知道去哪个部门"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["ownership_referral"]
    scenario.do_all("ownership_referral", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types().count("legal_route") == 2


# -- routing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("colour, complexity, level, department, warned", [
    ("红", "simple", "county", "县矛盾纠纷多元化解中心", True),
    ("橙", "simple", "township", "乡镇人民调解委员会", True),
    ("黄", "complex", "township", "乡镇人民调解委员会", False),
    ("蓝", "ordinary", "village", "村人民调解委员会", False),
])
def test_routing_by_risk_and_complexity(scenario, colour, complexity, level, department, warned):
    scenario.do("accept")
    scenario.do("assess", {**CLEAR, "risk_color": colour, "complexity": complexity})
    assert scenario.dispatch_as_routed() == {"handling_level": level, "department": department}
    assert ("risk_warning" in scenario.doc_types()) is warned


# -- mediation -------------------------------------------------------------------------------------

def test_agreement_with_judicial_confirmation(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("success"))
    scenario.do("agreement", {"agreement_terms": "拆除越界院墙", "apply_judicial_confirmation": True})
    assert scenario.ready() == ["judicial_confirmation"]
    scenario.do("judicial_confirmation", {"confirmation_result": "confirmed", "court": "九原区人民法院"})
    assert scenario.ready() == ["notify_result"]


def test_failed_mediation_ends_with_a_termination_and_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("failure"))
    scenario.do("legal_route")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    assert scenario.ready() == ["notify_result"]


def test_mediation_rounds_are_bounded_at_three(scenario):
    to_mediation(scenario)
    for _ in range(2):
        scenario.do("mediate", mediate("continue"))
        assert scenario.ready() == ["mediate"]
    scenario.do("mediate", mediate("continue"))
    assert scenario.ready() == ["legal_route"]


def test_the_mediator_escalates_village_township_county_then_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("escalate"))
    scenario.do("mediate", mediate("escalate"))
    assert (scenario.case().handling_level, scenario.case().department) == ("county", "县矛盾纠纷多元化解中心")
    scenario.do("mediate", mediate("escalate"))
    assert scenario.ready() == ["legal_route"]


def test_reminder_overdue_and_continued_supervision(scenario):
    to_mediation(scenario)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.warn_at + timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["warning"]
    scenario.clock.set(mediation.due_at + timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["overdue"]
    assert scenario.ready() == ["mediate", "supervise"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "限期化解"})
    assert scenario.ready() == ["mediate"]
    assert scenario.doc_types()[-2:] == ["work_reminder", "supervision_letter"]


def test_the_supervisor_escalates_and_a_leader_may_take_the_case(scenario):
    to_mediation(scenario)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "升级乡镇"})
    assert scenario.case().handling_level == "township"
    township = scenario.task("mediate")
    scenario.clock.set(township.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "refer_leader", "supervision_note": "提请包案"})
    scenario.do("leader_instruction", {"leader_instruction": "镇长包案"}, actor=MANAGER)
    assert scenario.ready() == ["mediate"]
    assert scenario.task("mediate").id == township.id


def test_the_case_escalates_by_itself_45_days_after_mediation_started(scenario):
    to_mediation(scenario)
    timers = {t.kind: t.due_at for t in scenario.timers()}
    # escalate_after 45 日 from Monday 2 March → Thursday 16 April 2026, a working day.
    assert timers["escalate"] == at(2026, 4, 16, 23, 59, 59)
    scenario.clock.set(at(2026, 4, 17, 0, 0))
    scenario.sweep()
    assert scenario.case().handling_level == "township"
    assert sorted(scenario.ready()) == ["mediate", "supervise"]
    assert "mediate_escalate" in scenario.passed()


def test_both_parties_consent_extends_the_month_once_by_30_days(scenario, sessions, runtime, staff):
    to_mediation(scenario)
    task_id = scenario.task("mediate").id
    with sessions() as session:
        request = runtime.request_extension(session, task_id, "30 日", "双方同意待测量后再调", staff)
    with sessions() as session:
        runtime.decide_extension(session, request.id, True, "同意", DIRECTOR)
    # 30 日 from Wednesday 1 April: 1 May is 劳动节 (1–5 May off) → Wednesday 6 May 2026.
    assert scenario.task("mediate").due_at == at(2026, 5, 6, 23, 59, 59)
    # The automatic escalation moves with it: 30 日 from Thursday 16 April → Saturday 16 May, a rest
    # day → Monday 18 May.
    assert {t.kind: t.due_at for t in scenario.timers()}["escalate"] == at(2026, 5, 18, 23, 59, 59)
    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        runtime.request_extension(session, task_id, "30 日", "再次", staff)


def test_a_dissatisfied_party_gets_the_mediation_handled_again(scenario):
    to_mediation(scenario)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "院墙未拆"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
