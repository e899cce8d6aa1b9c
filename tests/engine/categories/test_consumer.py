"""消费纠纷 (市场监管): every path of processes/consumer/ through the engine with a fake clock.

市场监督管理投诉举报处理暂行办法: accept or refuse within 7个工作日; mediation ends when no agreement is
reached within 45个工作日 of acceptance (终止调解), and the parties are told within 7个工作日. Time for
检定、检验、检测、鉴定 is not counted.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.calendar import SHANGHAI
from engine.queries import deadline_state
from engine.task_clock import ClockError
from tests.engine.scenario import CaseScenario, mediate

INTAKE = {
    "title": "网购电热水器漏电拒不退货",
    "summary": "购买的电热水器安装后漏电，商家拒绝退货。",
    "channel": "hotline_12345",
    "applicant_name": "刘敏",
    "applicant_phone": "13904720021",
    "respondent_name": "九原某电器商行",
    "amount": 2899,
}

ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般商品质量投诉"},
    "dispatch": {"handling_level": "township", "department": "市场监督管理所"},
    "agreement": {"agreement_terms": "商家退货退款", "agreement_amount": 2899, "performance_deadline": "2026-03-10"},
    "notify_result": {"notice_method": "phone"},
    "termination_notice": {"termination_reason": "refused", "notice_method": "sms", "legal_route": "litigation"},
    "follow_up": {"satisfaction": "satisfied"},
    "second_supervision": {"supervision_instructions": "重新组织调解"},
    "archive": {"archive_note": "归档"},
}


def at(year, month, day) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="consumer", intake=INTAKE, answers=ANSWERS)


def test_the_complaint_is_accepted_or_refused_within_seven_working_days(scenario):
    # 7 工作日 from Monday 2 March 2026: 3, 4, 5, 6, 9, 10, 11 March → Wednesday 11 March.
    assert scenario.task("accept").due_at == at(2026, 3, 11)


def test_a_refused_complaint_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "不属于本部门职责"})
    assert scenario.case().status == "terminated"
    assert scenario.doc_types() == []


def test_a_settled_complaint_is_told_followed_up_and_archived(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    scenario.do("mediate", mediate("success"))
    scenario.do_all("agreement", "notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]


def test_an_ended_mediation_is_told_to_the_parties_within_seven_working_days(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("ended")))
    assert scenario.ready() == ["termination_notice"]
    # 7 工作日 from Monday 2 March 2026 → Wednesday 11 March (as for acceptance).
    assert scenario.task("termination_notice").due_at == at(2026, 3, 11)
    scenario.do("termination_notice")
    assert scenario.doc_types()[-3:] == ["mediation_termination", "legal_route", "result_notice"]
    scenario.do_all("follow_up", "archive")
    assert scenario.case().status == "concluded"


@pytest.mark.parametrize("colour, complexity, level, warned", [
    ("红", "simple", "county", True), ("橙", "ordinary", "county", True),
    ("黄", "complex", "county", False), ("蓝", "simple", "township", False),
])
def test_routing_and_the_risk_warning(scenario, colour, complexity, level, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "complexity": complexity, "assessment": "研判"})
    assert scenario.case().handling_level == level
    assert scenario.task("dispatch").form_defaults["handling_level"] == level
    assert ("risk_warning" in scenario.doc_types()) is warned


# -- 45 工作日 ---------------------------------------------------------------------------------------

def test_forty_five_working_days_cross_qingming_and_labour_day(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    # 45 工作日 from Monday 2 March 2026: 3–31 March give 21; April 1–3 (24), 4–6 清明 off, 7–10 (28),
    # 13–17 (33), 20–24 (38), 27–30 (42); May 1–5 劳动节 off; 6, 7, 8 → Friday 8 May 2026.
    mediation = scenario.task("mediate")
    assert mediation.due_at == at(2026, 5, 8)
    assert {t.element_id: t.due_at for t in scenario.timers() if t.kind != "warning"} == {
        "mediate_overdue": at(2026, 5, 8), "mediate_expired": at(2026, 5, 8)}


def test_the_reminder_fires_before_the_limit(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    scenario.clock.set(scenario.task("mediate").warn_at + timedelta(seconds=1))
    assert [f.element_id for f in scenario.sweep().fired] == ["mediate_warning"]
    assert scenario.doc_types()[-1] == "work_reminder"
    assert scenario.ready() == ["mediate"]


def test_no_agreement_in_forty_five_working_days_ends_the_mediation(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    fired = {f.element_id for f in scenario.sweep().fired}
    assert fired == {"mediate_warning", "mediate_overdue", "mediate_expired"}
    assert scenario.ready() == ["supervise", "termination_notice"]
    # Told within 7 工作日 of the decision (Saturday 9 May 2026, 00:00:59): 9 May is a make-up working
    # day but the start day is not counted; 11–15 May give 5, 18, 19 → Tuesday 19 May.
    assert scenario.task("termination_notice").due_at == at(2026, 5, 19)
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "按期告知"})
    assert "supervision_end" in scenario.passed()
    scenario.do("termination_notice", {"termination_reason": "time_limit", "notice_method": "mail",
                                       "legal_route": "litigation"})
    scenario.do_all("follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_supervision_may_escalate_with_a_risk_warning(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "群体投诉，升级预警"})
    assert {"escalate_warning_event", "supervision_end_escalated"} <= scenario.passed()
    assert "risk_warning" in scenario.doc_types()


# -- 检定、鉴定 time is not counted --------------------------------------------------------------------

def test_an_appraisal_pauses_the_forty_five_working_days(scenario, sessions, runtime, staff):
    scenario.do_all("accept", "assess", "dispatch")
    task = scenario.task("mediate")
    scenario.clock.set(datetime(2026, 5, 7, 9, 0, tzinfo=SHANGHAI))  # the day before the limit
    with sessions() as session:
        runtime.pause_clock(session, task.id, "鉴定", staff)
    assert deadline_state(scenario.task("mediate"), scenario.clock.now()) == "暂停"
    scenario.clock.set(datetime(2026, 5, 11, 9, 0, tzinfo=SHANGHAI))  # past the old limit: nothing fires
    assert scenario.sweep().fired == []
    assert scenario.ready() == ["mediate"]
    with sessions() as session:
        runtime.resume_clock(session, task.id, staff)
    # Paused 4 days (Thursday 7 May 09:00 → Monday 11 May 09:00): Friday 8 May 23:59:59 + 4 days =
    # Tuesday 12 May 2026, a working day. Both the 超期 and the 终止调解 timers move with it.
    assert scenario.task("mediate").due_at == at(2026, 5, 12)
    assert {t.element_id: t.due_at for t in scenario.timers() if t.kind != "warning"} == {
        "mediate_overdue": at(2026, 5, 12), "mediate_expired": at(2026, 5, 12)}
    scenario.clock.set(at(2026, 5, 12) + timedelta(seconds=2))
    assert "mediate_expired" in {f.element_id for f in scenario.sweep().fired}
    assert scenario.ready() == ["supervise", "termination_notice"]


def test_only_the_reasons_the_rules_name_pause_the_clock(scenario, sessions, runtime, staff):
    scenario.do_all("accept", "assess", "dispatch")
    with sessions() as session, pytest.raises(ClockError, match="检定、检验、检测、鉴定"):
        runtime.pause_clock(session, scenario.task("mediate").id, "当事人出差", staff)


def test_the_consumer_mediation_has_no_extension(scenario, sessions, runtime, staff):
    scenario.do_all("accept", "assess", "dispatch")
    with sessions() as session, pytest.raises(ClockError, match="cannot be extended"):
        runtime.request_extension(session, scenario.task("mediate").id, "10 工作日", "当事人申请", staff)


# -- 回访 ---------------------------------------------------------------------------------------------

def test_a_dissatisfied_consumer_gets_one_more_mediation(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("ended")), "termination_notice")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "商家未回应"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied"})
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"
