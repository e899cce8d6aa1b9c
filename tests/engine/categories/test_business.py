"""生产经营纠纷: every path of the process end to end through the runtime with a fake clock.

人民调解 一个月 (若干规定 第33条) is `30 日`, extendable once by 30 日 with both parties' consent. A case
climbs village → township → county when the mediator asks, when the supervisor decides, or by itself
`45 日` after mediation started (escalate_after, [U] configurable default).
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
    "title": "养殖场与种植户用水纠纷",
    "summary": "养殖场抽取灌渠用水，下游种植户无法灌溉，双方多次冲突。",
    "channel": "hotline_12345",
    "people_count": 12,
    "amount": 60000,
    "applicant_name": "郑伟",
    "applicant_phone": "13904720005",
    "respondent_name": "鑫源养殖场",
}
ASSESS = {"risk_color": "黄", "complexity": "ordinary", "assessment": "生产用水纠纷"}
ANSWERS = {"assess": ASSESS}


def new_case(sessions, runtime, staff, clock) -> CaseScenario:
    return CaseScenario(sessions, runtime, staff, clock, category="business", intake=INTAKE, answers=ANSWERS)


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


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "属行政处罚事项"})
    assert scenario.case().status == "terminated"
    assert scenario.doc_types() == []


def test_successful_mediation_is_archived_with_its_documents(scenario):
    to_mediation(scenario)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]
    assert scenario.timers() == []


@pytest.mark.parametrize("colour, complexity, level, department, warned", [
    ("红", "simple", "county", "县矛盾纠纷多元化解中心", True),
    ("橙", "ordinary", "township", "乡镇人民调解委员会", True),
    ("黄", "complex", "township", "乡镇人民调解委员会", False),
    ("黄", "simple", "village", "村人民调解委员会", False),
])
def test_routing_by_risk_and_complexity(scenario, colour, complexity, level, department, warned):
    scenario.do("accept")
    scenario.do("assess", {**ASSESS, "risk_color": colour, "complexity": complexity})
    assert scenario.dispatch_as_routed() == {"handling_level": level, "department": department}
    assert ("risk_warning" in scenario.doc_types()) is warned


# -- deadlines across 春节 2026 ---------------------------------------------------------------------------

def test_deadlines_across_the_spring_festival_2026(sessions, runtime, staff, clock):
    clock.set(at(2026, 1, 16, 9, 0))  # Friday
    case = new_case(sessions, runtime, staff, clock)
    to_mediation(case)
    mediation = case.task("mediate")
    # 30 日 from Friday 16 January: 16 January + 30 days = Sunday 15 February, the first day of 春节
    # (15–23 February off) → the next working day, Tuesday 24 February.
    assert mediation.due_at == at(2026, 2, 24, 23, 59, 59)
    # escalate_after 45 日: 16 January + 45 days = Monday 2 March, a working day.
    timers = {t.kind: t.due_at for t in case.timers()}
    assert timers == {"warning": mediation.warn_at, "overdue": at(2026, 2, 24, 23, 59, 59),
                      "escalate": at(2026, 3, 2, 23, 59, 59)}

    clock.set(at(2026, 2, 13, 10, 0))  # Friday before the holiday
    second = new_case(sessions, runtime, staff, clock)
    second.do_all("accept", "assess")
    # 2 工作日 from Friday 13 February: Saturday 14 February is a 调休 make-up working day (1);
    # 15–23 February off; Tuesday 24 February (2).
    assert second.task("dispatch").due_at == at(2026, 2, 24, 23, 59, 59)

    # The mediation is not overdue during the holiday: on Monday 23 February only the reminder fired.
    clock.set(at(2026, 2, 23, 12, 0))
    assert [f.kind for f in case.sweep().fired] == ["warning"]
    assert not case.case().is_overdue
    clock.set(at(2026, 2, 25, 0, 0))
    assert [f.kind for f in case.sweep().fired] == ["overdue"]
    assert case.case().is_overdue


# -- escalation village → township → county ------------------------------------------------------------

def test_the_case_escalates_by_itself_every_45_days_then_ends_in_the_legal_route(scenario):
    to_mediation(scenario)
    # escalate_after 45 日 from Monday 2 March → Thursday 16 April 2026.
    assert {t.kind: t.due_at for t in scenario.timers()}["escalate"] == at(2026, 4, 16, 23, 59, 59)
    scenario.clock.set(at(2026, 4, 17, 0, 0))
    scenario.sweep()
    assert (scenario.case().handling_level, scenario.case().department) == ("township", "乡镇人民调解委员会")
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "乡镇继续调处"})
    # 45 日 from Friday 17 April → Monday 1 June 2026, a working day.
    assert {t.kind: t.due_at for t in scenario.timers()}["escalate"] == at(2026, 6, 1, 23, 59, 59)
    scenario.clock.set(at(2026, 6, 2, 0, 0))
    scenario.sweep()
    assert (scenario.case().handling_level, scenario.case().department) == ("county", "县矛盾纠纷多元化解中心")
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "县级继续调处"})
    scenario.clock.set(at(2026, 8, 1, 0, 0))
    scenario.sweep()
    # No level above the county: the mediation is withdrawn and the parties are told the legal route.
    assert sorted(scenario.ready()) == ["legal_route", "supervise"]
    assert [e.data for e in scenario.events("level_changed")] == [
        {"from": "village", "to": "township"}, {"from": "township", "to": "county"}]


def test_the_mediator_escalates_village_township_county_then_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("escalate"))
    scenario.do("mediate", mediate("escalate"))
    assert scenario.case().handling_level == "county"
    scenario.do("mediate", mediate("escalate"))
    assert scenario.ready() == ["legal_route"]
    assert scenario.doc_types().count("transfer_order") == 3


def test_the_supervisor_escalates_an_overdue_case(scenario):
    to_mediation(scenario)
    first = scenario.task("mediate")
    scenario.clock.set(first.due_at + timedelta(minutes=1))
    assert sorted(f.kind for f in scenario.sweep().fired) == ["overdue", "warning"]
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "升级乡镇"})
    assert scenario.ready() == ["mediate"]
    assert scenario.task("mediate").id != first.id
    assert scenario.case().handling_level == "township"
    assert [e.task_id for e in scenario.events("task_cancelled")] == [first.id]


def test_the_supervisor_continues_or_refers_to_a_leader(scenario):
    to_mediation(scenario)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "refer_leader", "supervision_note": "提请包案"})
    scenario.do("leader_instruction", {"leader_instruction": "水务站牵头"}, actor=MANAGER)
    assert scenario.ready() == ["mediate"]
    assert scenario.case().handling_level == "village"
    assert scenario.doc_types()[-2:] == ["work_reminder", "supervision_letter"]


# -- other outcomes ----------------------------------------------------------------------------------

def test_agreement_with_judicial_confirmation(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("success"))
    scenario.do("agreement", {"agreement_terms": "分时段用水", "apply_judicial_confirmation": True})
    scenario.do("judicial_confirmation", {"confirmation_result": "rejected", "court": "九原区人民法院"})
    assert scenario.ready() == ["notify_result"]


def test_failed_mediation_ends_with_a_termination_and_the_legal_route(scenario):
    to_mediation(scenario)
    scenario.do("mediate", mediate("failure"))
    scenario.do("legal_route")
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


def test_both_parties_consent_extends_the_month_once_by_30_days(scenario, sessions, runtime, staff):
    to_mediation(scenario)
    task_id = scenario.task("mediate").id
    with sessions() as session:
        request = runtime.request_extension(session, task_id, "30 日", "双方同意待灌溉季结束后再调", staff)
    with sessions() as session:
        runtime.decide_extension(session, request.id, True, "同意", DIRECTOR)
    # 30 日 from Wednesday 1 April: 1 May is 劳动节 (1–5 May off) → Wednesday 6 May 2026.
    assert scenario.task("mediate").due_at == at(2026, 5, 6, 23, 59, 59)
    assert scenario.doc_types()[-1] == "extension_notice"
    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        runtime.request_extension(session, task_id, "30 日", "再次", staff)


def test_a_dissatisfied_party_gets_the_mediation_handled_again(scenario):
    to_mediation(scenario)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "仍然抽水"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
