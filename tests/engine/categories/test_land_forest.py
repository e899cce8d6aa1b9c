"""山林土地纠纷 / 土地承包: every path of processes/land_forest/ through the engine with a fake clock.

人民调解 for one month (30日, configurable), climbing village → township → county when supervision
escalates; when mediation fails the parties are guided to 农村土地承包仲裁 (accept 5个工作日, decide 60日
+30日). 征地补偿 disputes are outside that arbitration (农村土地承包经营纠纷调解仲裁法 第2条) and go to
行政复议 / 诉讼 guidance instead.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from tests.engine.scenario import CaseScenario, mediate

LIAISON = Actor.of("liaison", frozenset({"liaison"}), "150207", "农村土地承包仲裁委员会联络员")
DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")

INTAKE = {
    "title": "承包地边界争议",
    "summary": "两户承包地相邻，一方翻耕越界约半亩，双方争执。",
    "channel": "grid",
    "applicant_name": "周平",
    "applicant_phone": "13904720041",
    "respondent_name": "吴建国",
}

ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"risk_color": "黄", "complexity": "ordinary", "land_acquisition_compensation": False,
               "assessment": "承包地边界纠纷"},
    "dispatch": {"handling_level": "village", "department": "村人民调解委员会"},
    "agreement": {"agreement_terms": "按二轮承包合同四至重新界定边界", "performance_deadline": "2026-03-20"},
    "admin_route_guidance": {"legal_route": "administrative_review", "guidance_note": "告知对补偿标准可申请行政复议"},
    "arbitration_referral": {"termination_reason": "双方对承包合同理解分歧", "legal_route": "arbitration",
                             "arbitration_committee": "九原区农村土地承包仲裁委员会"},
    "arbitration_accept": {"arbitration_accepted": True, "arbitration_case_number": "九农仲〔2026〕3号"},
    "arbitration_award": {"arbitration_result": "award", "award_note": "裁决按合同四至确定边界"},
    "notify_result": {"notice_method": "in_person"},
    "follow_up": {"satisfaction": "satisfied"},
    "second_supervision": {"supervision_instructions": "重新组织调解"},
    "archive": {"archive_note": "归档"},
}

LAND_ACQUISITION = {"risk_color": "橙", "complexity": "complex", "land_acquisition_compensation": True,
                    "assessment": "对征地补偿标准有异议，涉及二十余户"}


def at(year, month, day) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="land_forest", intake=INTAKE, answers=ANSWERS)


def overdue_and_supervise(scenario, decision: str) -> None:
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": decision, "supervision_note": f"督办：{decision}"})


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "已进入诉讼程序"})
    assert scenario.case().status == "terminated"


def test_a_settled_dispute_is_told_followed_up_and_archived(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    # 30日 [U] from Monday 2 March 2026: 2 + 30 = Wednesday 1 April, a working day.
    assert scenario.task("mediate").due_at == at(2026, 4, 1)
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]


@pytest.mark.parametrize("colour, complexity, level, warned", [
    ("红", "simple", "county", True), ("橙", "simple", "township", True),
    ("黄", "complex", "township", False), ("蓝", "ordinary", "village", False),
])
def test_routing_and_the_risk_warning(scenario, colour, complexity, level, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "complexity": complexity, "land_acquisition_compensation": False,
                           "assessment": "研判"})
    assert scenario.task("dispatch").form_defaults["handling_level"] == level
    assert ("risk_warning" in scenario.doc_types()) is warned


# -- 征地补偿: outside the land-contract arbitration ---------------------------------------------------

def test_a_land_acquisition_compensation_dispute_is_guided_to_review_or_litigation(scenario):
    scenario.do("accept")
    scenario.do("assess", LAND_ACQUISITION)
    assert scenario.ready() == ["admin_route_guidance"]
    assert "risk_warning" in scenario.doc_types()  # 橙 is warned before it leaves
    scenario.do("admin_route_guidance")
    assert scenario.doc_types()[-1] == "legal_route"
    assert "transfer_order" not in scenario.doc_types()
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert "arbitration_referral" not in [e.element_id for e in scenario.events("task_created")]


def test_a_dissatisfied_land_acquisition_party_is_guided_again(scenario):
    scenario.do("accept")
    scenario.do("assess", LAND_ACQUISITION)
    scenario.do_all("admin_route_guidance", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "不清楚向谁申请复议"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["admin_route_guidance"]
    scenario.do_all(("admin_route_guidance", {"legal_route": "litigation", "guidance_note": "告知行政诉讼"}),
                    "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


# -- failed mediation → 农村土地承包仲裁 -------------------------------------------------------------

def test_a_failed_mediation_is_referred_to_land_contract_arbitration(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("failure")))
    assert scenario.ready() == ["arbitration_referral"]
    scenario.do("arbitration_referral")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    accept = scenario.task("arbitration_accept")
    assert accept.role == "liaison"
    # 5 工作日 from Monday 2 March 2026: 3, 4, 5, 6, 9 March → Monday 9 March.
    assert accept.due_at == at(2026, 3, 9)
    scenario.do("arbitration_accept", actor=LIAISON)
    # 60日 from Monday 2 March: 2 + 60 = Friday 1 May, 劳动节 (1–5 May off) → Wednesday 6 May 2026.
    assert scenario.task("arbitration_award").due_at == at(2026, 5, 6)
    scenario.do("arbitration_award", actor=LIAISON)
    assert scenario.ready() == ["notify_result"]
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_a_complex_arbitration_may_be_extended_by_thirty_days_once(scenario, sessions, runtime):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("failure")), "arbitration_referral")
    scenario.do("arbitration_accept", actor=LIAISON)
    task = scenario.task("arbitration_award")
    with sessions() as session:
        request = runtime.request_extension(session, task.id, "30 日", "需实地勘测", LIAISON)
        runtime.decide_extension(session, request.id, True, "经仲裁委主任批准", DIRECTOR)
    # 30日 from Wednesday 6 May 2026: 6 + 30 = Friday 5 June, a working day.
    assert scenario.task("arbitration_award").due_at == at(2026, 6, 5)
    assert scenario.doc_types()[-1] == "extension_notice"
    with sessions() as session, pytest.raises(Exception, match="already been extended"):
        runtime.request_extension(session, task.id, "10 日", "再次延长", LIAISON)


def test_a_declined_arbitration_goes_on_to_the_result_notice(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("failure")), "arbitration_referral")
    scenario.do("arbitration_accept", {"arbitration_accepted": False, "arbitration_accept_note": "超过申请时效"},
                actor=LIAISON)
    assert scenario.ready() == ["notify_result"]


def test_an_ownership_dispute_goes_to_the_government_not_to_arbitration(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("failure")))
    scenario.do("arbitration_referral", {"termination_reason": "林地权属不清", "legal_route": "government"})
    assert scenario.ready() == ["notify_result"]


# -- time limits, supervision and escalation ----------------------------------------------------------

def test_the_parties_may_agree_to_extend_mediation_by_thirty_days(scenario, sessions, runtime, staff):
    scenario.do_all("accept", "assess", "dispatch")
    task = scenario.task("mediate")
    with sessions() as session:
        request = runtime.request_extension(session, task.id, "30 日", "双方同意延长调解期限", staff)
        runtime.decide_extension(session, request.id, True, "同意", DIRECTOR)
    # 30日 from Wednesday 1 April 2026: 1 + 30 = Friday 1 May, 劳动节 → Wednesday 6 May.
    assert scenario.task("mediate").due_at == at(2026, 5, 6)
    assert {t.element_id: t.due_at for t in scenario.timers() if t.kind == "overdue"} == {
        "mediate_overdue": at(2026, 5, 6)}


def test_the_reminder_fires_at_eighty_percent(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    scenario.clock.set(scenario.task("mediate").warn_at + timedelta(seconds=1))
    assert [f.element_id for f in scenario.sweep().fired] == ["mediate_warning"]
    assert scenario.doc_types()[-1] == "work_reminder"


def test_continued_supervision_leaves_the_mediation_where_it_is(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    overdue_and_supervise(scenario, "continue")
    assert "supervision_end" in scenario.passed()
    assert scenario.ready() == ["mediate"]
    assert scenario.case().is_overdue


def test_supervision_escalates_village_township_county_then_refers_to_arbitration(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    overdue_and_supervise(scenario, "escalate")
    assert scenario.case().handling_level == "township"
    assert scenario.ready() == ["mediate"]
    assert scenario.doc_types().count("transfer_order") == 2
    overdue_and_supervise(scenario, "escalate")
    assert scenario.case().handling_level == "county"
    overdue_and_supervise(scenario, "escalate")
    assert scenario.ready() == ["arbitration_referral"]
    assert {"escalate_throw", "supervision_end_escalated", "raise_level"} <= scenario.passed()
    assert scenario.case().data["escalation_count"] == 2


def test_a_dissatisfied_party_gets_the_dispute_mediated_again(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "对方未按协议退还土地"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied"})
    assert scenario.ready() == ["archive"]
