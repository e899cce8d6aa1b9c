"""法院诉前委派调解: every path of the process end to end through the engine with a fake clock.

The court refers a dispute before filing; the center accepts within 3 日, mediates for 30日 (extended by
30日 only with the parties' consent), then reports an agreement back to the court for 司法确认, or returns
the case to the court with a 调解终结书.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.errors import FormInvalid
from engine.task_clock import ClockError
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario, end_of_day, mediate

INTAKE = {
    "title": "买卖合同货款纠纷（法院委派）",
    "summary": "原告诉请被告支付货款及违约金，法院立案前委派调解。",
    "channel": "court",
    "amount": 86000,
    "applicant_name": "孙丽",
    "applicant_phone": "13904720041",
    "respondent_name": "某商贸有限公司",
    "court_name": "九原区人民法院",
    "court_case_number": "（2026）蒙0207民诉前调1234号",
}

ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"risk_color": "黄", "assessment": "事实清楚，适宜调解"},
    "dispatch": {"department": "九原区商事调解委员会", "mediator_name": "李调解"},
    "agreement": {"agreement_terms": "被告分两期支付货款", "agreement_amount": 80000, "performance_deadline": "2026-06-30"},
    "report_to_court": {"apply_judicial_confirmation": True, "report_note": "已将调解协议送九原区人民法院"},
    "return_to_court": {"termination_reason": "被告拒绝调解", "return_note": "退回法院登记立案"},
    "notify_result": {"notice_method": "sms"},
    "archive": {"archive_note": "归档"},
}

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
INTAKE_STEPS = ("accept", "assess", "dispatch")


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock, category="court_referral", intake=INTAKE, answers=ANSWERS)


def timer_dues(scenario) -> dict:
    return {t.element_id: t.due_at for t in scenario.timers()}


def test_the_intake_form_extends_the_generic_intake():
    generic = json.loads((ROOT / "forms" / "intake.json").read_text(encoding="utf-8"))
    own = json.loads((ROOT / "forms" / "court_referral_intake.json").read_text(encoding="utf-8"))
    assert {k: own["properties"][k] for k in generic["properties"]} == generic["properties"]
    assert set(generic["required"]) <= set(own["required"])


# -- 委派 and 接收 ------------------------------------------------------------------------------------

def test_the_intake_records_the_court_and_its_case_number(scenario, sessions, runtime, staff):
    data = scenario.case().data
    assert (data["court_name"], data["court_case_number"]) == ("九原区人民法院", "（2026）蒙0207民诉前调1234号")
    without = {k: v for k, v in INTAKE.items() if k not in ("court_name", "court_case_number")}
    with sessions() as session, pytest.raises(FormInvalid) as raised:
        runtime.start_case(session, "court_referral", without, "150207", staff)
    assert sorted(e.field for e in raised.value.errors) == ["court_case_number", "court_name"]


def test_the_center_accepts_within_three_days_or_the_case_ends(scenario):
    accept = scenario.task("accept")
    # 3 日 from Monday 2 March 2026 → Thursday 5 March.
    assert (accept.role, accept.deadline, accept.due_at) == ("clerk", "3 日", end_of_day(2026, 3, 5))
    scenario.do("accept", {"accepted": False, "reject_reason": "不属于本调解组织受理范围"})
    assert scenario.case().status == "terminated"


@pytest.mark.parametrize("colour, warned", [("红", True), ("橙", True), ("黄", False)])
def test_high_risk_referrals_get_a_risk_warning(scenario, colour, warned):
    scenario.do("accept")
    scenario.do("assess", {"risk_color": colour, "assessment": "研判"})
    assert scenario.ready() == ["dispatch"]
    assert ("risk_warning" in scenario.doc_types()) is warned


def test_mediation_has_thirty_days_and_an_automatic_return_three_days_later(scenario):
    scenario.do_all(*INTAKE_STEPS)
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order"]
    mediation = scenario.task("mediate")
    # 30日 from Monday 2 March → Wednesday 1 April.
    assert (mediation.role, mediation.deadline, mediation.due_at) == ("mediator", "30 日", end_of_day(2026, 4, 1))
    # 33日 (30日 + 3日 to return the file) → Saturday 4 April, in the 清明 holiday (4–6 April) → Tuesday 7 April.
    assert timer_dues(scenario)["mediate_expired"] == end_of_day(2026, 4, 7)


# -- agreement → report to the court --------------------------------------------------------------------

def test_an_agreement_is_reported_to_the_court_then_followed_up(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement")
    report = scenario.task("report_to_court")
    # 5 工作日 from Monday 2 March → Monday 9 March.
    assert (report.role, report.deadline, report.due_at) == ("mediator", "5 工作日", end_of_day(2026, 3, 9))
    scenario.do("report_to_court")
    assert scenario.case().data["apply_judicial_confirmation"] is True
    scenario.do("notify_result")
    assert scenario.ready() == ["follow_up"]
    scenario.do_all("follow_up", "archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]


# -- failure → back to the court ---------------------------------------------------------------------------

def test_failed_mediation_returns_the_case_to_the_court_without_follow_up(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("failure")))
    returned = scenario.task("return_to_court")
    # 3 日 from Monday 2 March → Thursday 5 March.
    assert (returned.role, returned.deadline, returned.due_at) == ("mediator", "3 日", end_of_day(2026, 3, 5))
    scenario.do("return_to_court")
    assert scenario.doc_types()[-1] == "mediation_termination"
    scenario.do("notify_result")
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"
    assert "follow_up_call" not in scenario.passed()


# -- extension with the parties' consent --------------------------------------------------------------

def test_an_extension_with_consent_adds_30_days_once(scenario, sessions, runtime, staff):
    scenario.do_all(*INTAKE_STEPS)
    with sessions() as session:
        request = runtime.request_extension(session, scenario.task("mediate").id, "30 日", "双方当事人同意延长调解期限",
                                            staff)
        runtime.decide_extension(session, request.id, True, "同意", DIRECTOR)
    # 30日 from Wednesday 1 April → Friday 1 May, in the 劳动节 holiday (1–5 May) → Wednesday 6 May.
    assert scenario.task("mediate").due_at == end_of_day(2026, 5, 6)
    # The automatic return moves too: 30日 from Tuesday 7 April → Thursday 7 May, a working day.
    assert timer_dues(scenario)["mediate_expired"] == end_of_day(2026, 5, 7)
    assert scenario.doc_types()[-1] == "extension_notice"
    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        runtime.request_extension(session, scenario.task("mediate").id, "10 日", "再延期", staff)
    with sessions() as session, pytest.raises(ClockError, match="may not be paused"):
        runtime.pause_clock(session, scenario.task("mediate").id, "鉴定", staff)


# -- timers ------------------------------------------------------------------------------------------------

def test_the_reminder_fires_at_80_percent(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").warn_at + timedelta(seconds=1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("mediate_warning", "warning")]
    assert scenario.doc_types()[-1] == "work_reminder"
    assert "warning_end" in scenario.passed()


def test_overdue_is_supervised_and_the_mediator_can_still_succeed(scenario):
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    assert sorted(f.kind for f in scenario.sweep().fired) == ["overdue", "warning"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "期满前尽快调结"})
    assert scenario.ready() == ["mediate"]
    assert "supervision_end" in scenario.passed()
    scenario.do("mediate", mediate("success"))
    assert scenario.ready() == ["agreement"]


def test_supervision_can_send_an_overdue_case_back_to_the_court(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "期满未果，退回法院"})
    assert scenario.ready() == ["return_to_court"]
    assert [e.task_id for e in scenario.events("task_cancelled")] == [mediation.id]
    assert {"escalate_throw", "supervision_end_escalated"} <= scenario.passed()


def test_the_case_goes_back_to_the_court_by_itself_when_nobody_acts(scenario):
    scenario.do_all(*INTAKE_STEPS)
    mediation = scenario.task("mediate")
    scenario.clock.set(mediation.due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "请及时处理"})
    scenario.clock.set(datetime(2026, 4, 7, 23, 58, tzinfo=SHANGHAI))
    assert scenario.sweep().fired == []
    scenario.clock.set(datetime(2026, 4, 8, 0, 1, tzinfo=SHANGHAI))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("mediate_expired", "escalate")]
    assert scenario.ready() == ["return_to_court"]
    scenario.do_all("return_to_court", "notify_result", "archive")
    assert scenario.case().status == "concluded"


# -- 回访 → 二次督办 → mediated again ------------------------------------------------------------------------

def test_dissatisfied_follow_up_reopens_mediation_once(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "report_to_court", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "被告未按期付款"})
    scenario.do("second_supervision", {"supervision_instructions": "重新组织调解"})
    assert scenario.ready() == ["mediate"]
    assert scenario.case().data["mediation_outcome"] == ""
    scenario.do("mediate", mediate("failure"))
    scenario.do_all("return_to_court", "notify_result")
    assert scenario.ready() == ["archive"]  # returned to the court: no second follow-up
    scenario.do("archive")
    assert scenario.case().status == "concluded"
