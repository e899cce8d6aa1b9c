"""道路交通事故损害赔偿 (公安调解): every path of processes/traffic/ through the engine with a fake clock.

The parties apply jointly within 10日 of the 认定书; mediation starts only once the harm is known (治疗终结 /
丧葬事宜结束, 定残, 确定损失), the parties are told the date 3日 ahead, and mediation lasts 10日.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.calendar import SHANGHAI
from tests.engine.scenario import CaseScenario, mediate

INTAKE = {
    "title": "两车追尾致一人受伤",
    "summary": "后车追尾，前车驾驶人颈部受伤住院，双方就赔偿数额协商不成。",
    "channel": "police_110",
    "applicant_name": "赵刚",
    "applicant_phone": "13904720031",
    "respondent_name": "孙磊",
    "people_count": 2,
}

HARM_KNOWN = {"treatment_ended": True, "disability_rated": True, "loss_assessed": True, "harm_note": "已出院，未构成伤残"}
HARM_PENDING = {"treatment_ended": False, "disability_rated": True, "loss_assessed": True, "harm_note": "仍在住院治疗"}

ANSWERS = {
    "accept": {"accepted": True, "joint_application": True, "determination_received_on": "2026-02-27"},
    "assess": {"risk_color": "黄", "casualty": "injury", "assessment": "一般人身损害赔偿"},
    "dispatch": {"handling_level": "township", "department": "交警中队（警调对接工作室）"},
    "harm_determination": HARM_KNOWN,
    "mediation_notice": {"mediation_date": "2026-03-09", "mediation_place": "交警中队调解室", "notice_method": "phone"},
    "agreement": {"agreement_terms": "孙磊赔偿医疗费、误工费共计三万元", "agreement_amount": 30000,
                  "performance_deadline": "2026-04-01"},
    "legal_route": {"termination_reason": "赔偿数额分歧过大", "legal_route": "litigation"},
    "litigation_guidance": {"guidance_note": "损害长期无法确定，告知可向人民法院起诉"},
    "notify_result": {"notice_method": "phone"},
    "follow_up": {"satisfaction": "satisfied"},
    "second_supervision": {"supervision_instructions": "重新组织调解"},
    "archive": {"archive_note": "归档"},
}


def at(year, month, day) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="traffic", intake=INTAKE, answers=ANSWERS)


def notify_and_wait(scenario) -> None:
    """Fix the mediation date, then let the 3日 notice period pass."""
    scenario.do("mediation_notice")
    scenario.clock.set(scenario.timers()[0].due_at + timedelta(minutes=1))
    scenario.sweep()


def test_the_joint_application_is_accepted_within_ten_days(scenario):
    # 10日 from Monday 2 March 2026: 2 + 10 = Thursday 12 March, a working day.
    assert scenario.task("accept").due_at == at(2026, 3, 12)


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "joint_application": False, "reject_reason": "一方不同意公安调解"})
    assert scenario.case().status == "terminated"


def test_mediation_waits_for_the_harm_then_the_three_day_notice(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    assert scenario.ready() == ["harm_determination"]
    # 30日 [U] from Monday 2 March 2026: 2 + 30 = Wednesday 1 April.
    assert scenario.task("harm_determination").due_at == at(2026, 4, 1)
    scenario.do("harm_determination")
    scenario.clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI))  # Wednesday 4 March
    scenario.do("mediation_notice")
    assert scenario.ready() == []
    # 3日 from Wednesday 4 March: 4 + 3 = Saturday 7 March, a rest day → Monday 9 March.
    (notice,) = scenario.timers()
    assert (notice.element_id, notice.due_at) == ("notice_period", at(2026, 3, 9))
    scenario.clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=SHANGHAI))
    assert scenario.sweep().fired == []
    scenario.clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))  # Tuesday 10 March
    scenario.sweep()
    assert scenario.ready() == ["mediate"]
    # 10日 from Tuesday 10 March: 10 + 10 = Friday 20 March.
    assert scenario.task("mediate").due_at == at(2026, 3, 20)


def test_an_agreement_is_told_followed_up_and_archived(scenario):
    scenario.do_all("accept", "assess", "dispatch", "harm_determination")
    notify_and_wait(scenario)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]


def test_the_case_keeps_checking_the_harm_until_it_is_known(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    first = scenario.task("harm_determination")
    scenario.do("harm_determination", HARM_PENDING)
    second = scenario.task("harm_determination")
    assert second.id != first.id
    scenario.do("harm_determination", HARM_KNOWN)
    assert scenario.ready() == ["mediation_notice"]
    assert scenario.case().data["harm_checks"] == 2


def test_after_six_checks_without_known_harm_the_parties_are_told_to_sue(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    for check in range(1, 7):
        assert scenario.ready() == ["harm_determination"], check
        scenario.do("harm_determination", HARM_PENDING)
    assert scenario.ready() == ["litigation_guidance"]
    scenario.do("litigation_guidance")
    assert scenario.doc_types()[-1] == "legal_route"
    assert "mediation_termination" not in scenario.doc_types()  # no mediation ever started
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_a_failed_mediation_ends_with_a_termination_and_the_legal_route(scenario):
    scenario.do_all("accept", "assess", "dispatch", "harm_determination")
    notify_and_wait(scenario)
    scenario.do("mediate", mediate("failure"))
    assert scenario.ready() == ["legal_route"]
    scenario.do("legal_route")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


@pytest.mark.parametrize("colour, casualty, level, warned", [
    ("红", "injury", "county", True), ("橙", "property_only", "county", True),
    ("黄", "death", "county", False), ("黄", "injury", "township", False),
])
def test_routing_and_the_risk_warning(scenario, colour, casualty, level, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "casualty": casualty, "assessment": "研判"})
    assert scenario.case().handling_level == level
    assert ("risk_warning_event" in scenario.passed()) is warned


# -- the 10日 mediation limit ------------------------------------------------------------------------

@pytest.fixture
def mediating(scenario):
    scenario.do_all("accept", "assess", "dispatch", "harm_determination")
    notify_and_wait(scenario)
    return scenario


def test_the_reminder_fires_at_eighty_percent(mediating):
    mediating.clock.set(mediating.task("mediate").warn_at + timedelta(seconds=1))
    assert [f.element_id for f in mediating.sweep().fired] == ["mediate_warning"]
    assert mediating.doc_types()[-1] == "work_reminder"


def test_ten_days_without_agreement_end_the_mediation(mediating):
    mediating.clock.set(mediating.task("mediate").due_at + timedelta(minutes=1))
    fired = {f.element_id for f in mediating.sweep().fired}
    assert fired == {"mediate_warning", "mediate_overdue", "mediate_expired"}
    assert mediating.ready() == ["legal_route", "supervise"]
    mediating.do("supervise", {"supervision_decision": "continue", "supervision_note": "制作调解终结书"})
    assert "supervision_end" in mediating.passed()
    mediating.do("legal_route")
    assert mediating.ready() == ["notify_result"]


def test_supervision_may_escalate_with_a_risk_warning(mediating):
    mediating.clock.set(mediating.task("mediate").due_at + timedelta(minutes=1))
    mediating.sweep()
    mediating.do("supervise", {"supervision_decision": "escalate", "supervision_note": "死亡事故，升级预警"})
    assert {"escalate_warning_event", "supervision_end_escalated"} <= mediating.passed()
    assert "risk_warning" in mediating.doc_types()


def test_a_dissatisfied_party_gets_a_new_mediation_date(mediating):
    mediating.do_all(("mediate", mediate("failure")), "legal_route", "notify_result")
    mediating.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "希望再调一次"})
    mediating.do("second_supervision")
    assert mediating.ready() == ["mediation_notice"]
    notify_and_wait(mediating)
    mediating.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert mediating.case().status == "concluded"
