"""合同纠纷: every path of the process end to end through the runtime with a fake clock.

人民调解 一个月 (若干规定 第33条) is `30 日`, extendable once by 30 日 with both parties' consent. The
routing table sends a dispute by its amount and risk: 红 or ≥ 1,000,000 元 → 县商事调解组织,
≥ 100,000 元 → 乡镇, otherwise the village 人民调解委员会.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.errors import FormInvalid
from engine.task_clock import ClockError
from tests.engine.scenario import CaseScenario, mediate

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
MANAGER = Actor.of("manager", frozenset({"manager"}), "150200", "包头市委政法委")

INTAKE = {
    "title": "农资买卖合同货款纠纷",
    "summary": "农资店赊销化肥，买方以质量问题为由拒付余款。",
    "channel": "walk_in",
    "people_count": 2,
    "amount": 38000,
    "contract_type": "sale",
    "applicant_name": "周丽",
    "applicant_phone": "13904720004",
    "respondent_name": "吴军",
}
ASSESS = {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般买卖合同纠纷"}
ANSWERS = {"assess": ASSESS}


def new_case(sessions, runtime, staff, clock, **intake) -> CaseScenario:
    return CaseScenario(sessions, runtime, staff, clock, category="contract", intake={**INTAKE, **intake},
                        answers=ANSWERS)


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return new_case(sessions, runtime, staff, clock)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def to_mediation(scenario, assessment=None) -> None:
    scenario.do("accept")
    scenario.do("assess", assessment or ASSESS)
    scenario.dispatch_as_routed()
    assert scenario.ready() == ["mediate"]


def test_the_contract_intake_requires_the_amount(sessions, runtime, staff):
    intake = {k: v for k, v in INTAKE.items() if k != "amount"}
    with sessions() as session, pytest.raises(FormInvalid) as error:
        runtime.start_case(session, "contract", intake, "150207", staff)
    assert [e.field for e in error.value.errors] == ["amount"]


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "已申请仲裁"})
    assert scenario.case().status == "terminated"
    assert scenario.doc_types() == []


# -- routing by amount and risk ----------------------------------------------------------------------

@pytest.mark.parametrize("amount, colour, level, department", [
    (38000, "黄", "village", "村人民调解委员会"),
    (99999.99, "橙", "village", "村人民调解委员会"),
    (100000, "黄", "township", "乡镇人民调解委员会"),
    (999999, "蓝", "township", "乡镇人民调解委员会"),
    (1000000, "黄", "county", "县商事调解组织"),
    (5000, "红", "county", "县商事调解组织"),
])
def test_routing_by_amount_and_risk(sessions, runtime, staff, clock, amount, colour, level, department):
    case = new_case(sessions, runtime, staff, clock, amount=amount)
    case.do("accept")
    case.do("assess", {**ASSESS, "risk_color": colour})
    assert case.dispatch_as_routed() == {"handling_level": level, "department": department}
    assert ("risk_warning" in case.doc_types()) is (colour in ("红", "橙"))


# -- agreement and judicial confirmation ---------------------------------------------------------------

def test_an_agreement_may_be_confirmed_by_the_court_then_the_case_is_archived(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("success"))
    scenario.do("agreement", {"agreement_terms": "买方于十日内支付余款30000元", "agreement_amount": 30000,
                              "performance_deadline": "2026-03-20", "apply_judicial_confirmation": True})
    assert scenario.ready() == ["judicial_confirmation"]
    # 30 日 from Monday 2 March → Wednesday 1 April.
    assert scenario.task("judicial_confirmation").due_at == at(2026, 4, 1, 23, 59, 59)
    scenario.do("judicial_confirmation", {"confirmation_result": "confirmed", "court": "九原区人民法院"})
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]


def test_an_agreement_without_confirmation_goes_to_the_result_notice(scenario):
    to_mediation(scenario)
    scenario.do_all(("mediate", mediate("success")), "agreement")
    assert scenario.ready() == ["notify_result"]
    assert "judicial_confirmation_call" not in scenario.passed()


# -- deadlines across 国庆 2026 ---------------------------------------------------------------------------

def test_deadlines_across_national_day_2026(sessions, runtime, staff, clock):
    clock.set(at(2026, 9, 7, 10, 0))  # Monday
    case = new_case(sessions, runtime, staff, clock)
    to_mediation(case)
    # 30 日 from Monday 7 September: 7 September + 30 days = Wednesday 7 October, inside 国庆 (1–7 October
    # off) → the next working day, Thursday 8 October.
    assert case.task("mediate").due_at == at(2026, 10, 8, 23, 59, 59)

    clock.set(at(2026, 9, 30, 10, 0))  # Wednesday, the last working day before the holiday
    second = new_case(sessions, runtime, staff, clock)
    second.do_all("accept", "assess")
    # 2 工作日 from Wednesday 30 September: 1–7 October off; Thursday 8 (1), Friday 9 October (2).
    assert second.task("dispatch").due_at == at(2026, 10, 9, 23, 59, 59)

    clock.set(at(2026, 9, 30, 16, 0))
    case.do("mediate", mediate("success"))
    # 3 工作日 from Wednesday 30 September: Thursday 8 (1), Friday 9 (2), Saturday 10 October (3) —
    # a 调休 make-up working day.
    assert case.task("agreement").due_at == at(2026, 10, 10, 23, 59, 59)


# -- mediation -------------------------------------------------------------------------------------

def test_failed_mediation_ends_with_a_termination_and_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("failure"))
    scenario.do("legal_route", {"termination_reason": "买方拒绝付款", "legal_route": "litigation"})
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_mediation_rounds_are_bounded_at_three(scenario):
    to_mediation(scenario)
    for _ in range(2):
        scenario.do("mediate", mediate("continue"))
        assert scenario.ready() == ["mediate"]
    scenario.do("mediate", mediate("continue"))
    assert scenario.ready() == ["legal_route"]


def test_escalation_reaches_the_county_commercial_mediation_body_then_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("escalate"))
    assert (scenario.case().handling_level, scenario.case().department) == ("township", "乡镇人民调解委员会")
    scenario.do("mediate", mediate("escalate"))
    assert (scenario.case().handling_level, scenario.case().department) == ("county", "县商事调解组织")
    scenario.do("mediate", mediate("escalate"))
    assert scenario.ready() == ["legal_route"]


def test_there_is_no_automatic_escalation_only_reminder_and_overdue(scenario):
    to_mediation(scenario)
    assert sorted(t.kind for t in scenario.timers()) == ["overdue", "warning"]
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.warn_at + timedelta(seconds=1))
    assert [f.kind for f in scenario.sweep().fired] == ["warning"]
    scenario.clock.set(mediation.due_at + timedelta(days=30))
    assert [f.kind for f in scenario.sweep().fired] == ["overdue"]
    assert scenario.ready() == ["mediate", "supervise"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "限期办结"})
    assert scenario.ready() == ["mediate"]
    assert scenario.case().handling_level == "village"
    assert scenario.doc_types()[-2:] == ["work_reminder", "supervision_letter"]


def test_the_supervisor_escalates_an_overdue_case(scenario):
    to_mediation(scenario)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "升级乡镇"})
    assert scenario.ready() == ["mediate"]
    assert (scenario.case().handling_level, scenario.case().department) == ("township", "乡镇人民调解委员会")
    assert {"escalate_throw", "supervision_end_escalated", "mediate_escalate_signal"} <= scenario.passed()


def test_the_supervisor_may_refer_an_overdue_case_to_a_leader(scenario):
    to_mediation(scenario)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "refer_leader", "supervision_note": "提请包案"})
    scenario.do("leader_instruction", {"leader_instruction": "商务局协助"}, actor=MANAGER)
    assert scenario.ready() == ["mediate"]


def test_both_parties_consent_extends_the_month_once_by_30_days(scenario, sessions, runtime, staff):
    to_mediation(scenario)
    task_id = scenario.task("mediate").id
    with sessions() as session:
        request = runtime.request_extension(session, task_id, "30 日", "双方同意等待质量检验结果", staff)
    with sessions() as session:
        runtime.decide_extension(session, request.id, True, "同意", DIRECTOR)
    # 30 日 from Wednesday 1 April: 1 May is 劳动节 (1–5 May off) → Wednesday 6 May 2026.
    assert scenario.task("mediate").due_at == at(2026, 5, 6, 23, 59, 59)
    assert scenario.doc_types()[-1] == "extension_notice"
    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        runtime.request_extension(session, task_id, "5 日", "再次", staff)


def test_a_dissatisfied_party_gets_the_mediation_handled_again(scenario):
    to_mediation(scenario)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "对方未付款"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
