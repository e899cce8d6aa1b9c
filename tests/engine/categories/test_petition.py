"""信访 (信访工作条例 2022): every path of the process end to end through the engine with a fake clock.

登记并转送/交办 15日 → the receiving organ accepts (书面告知 15日) or objects within 5个工作日 (once) → 办理 60日
(+30日, the petitioner told why) → 处理意见 → 复查 window 30日 → 复查 30日 → 复核 window 30日 → 复核 30日
(听证 time excluded) → 不再受理. A window that passes without a request closes by itself.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.errors import FormInvalid
from engine.queries import deadline_state
from engine.task_clock import ClockError
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario, end_of_day

INTAKE = {
    "title": "反映拖欠工程款问题",
    "summary": "信访人反映某建筑公司拖欠其工程款，多次协商未果，请求督促支付。",
    "channel": "petition",
    "people_count": 1,
    "amount": 56000,
    "applicant_name": "赵磊",
    "applicant_phone": "13904720031",
    "applicant_id_number": "150207197905050031",
    "petition_number": "XF150207-2026-00017",
}

ANSWERS = {
    "register_dispatch": {"risk_color": "黄", "assessment": "属于住建部门职责", "dispatch_decision": "transfer",
                          "department": "九原区住房和城乡建设局", "dispatch_note": "请依法处理并告知信访人"},
    "receipt_decision": {"receipt": "accept"},
    "notify_acceptance": {"notice_method": "mail", "handling_procedure": "本局调查核实后60日内出具处理意见"},
    "handle": {"handling_result": "supported", "handling_record": "已约谈建筑公司，承诺分期支付"},
    "reply": {"reply_opinion": "支持信访人的请求，督促公司于30日内支付", "notice_method": "mail"},
    "review_request": {"review_requested": False},
    "review": {"review_result": "upheld", "review_opinion": "维持原处理意见"},
    "recheck_request": {"recheck_requested": False},
    "recheck": {"recheck_result": "upheld", "hearing_held": True, "recheck_opinion": "维持复查意见"},
    "legal_channel_notice": {"legal_route": "litigation", "channel_note": "属合同纠纷，可向人民法院起诉"},
    "archive": {"archive_note": "归档"},
}

LIAISON = Actor.of("liaison", frozenset({"liaison"}), "150207", "住建局信访联络员")
DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
LIAISON_TASKS = {"receipt_decision", "notify_acceptance", "handle", "reply", "review", "recheck"}


class Petition(CaseScenario):
    """The petition scenario: the receiving organ's tasks are done by its liaison."""

    def do(self, element_id, data=None, actor=None):
        if actor is None and element_id in LIAISON_TASKS:
            actor = LIAISON
        return super().do(element_id, data, actor)


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return Petition(sessions, runtime, staff, clock, category="petition", intake=INTAKE, answers=ANSWERS)


TO_HANDLE = ("register_dispatch", "receipt_decision", "notify_acceptance")
TO_REVIEW_WINDOW = (*TO_HANDLE, "handle", "reply")


def test_the_intake_form_extends_the_generic_intake():
    generic = json.loads((ROOT / "forms" / "intake.json").read_text(encoding="utf-8"))
    own = json.loads((ROOT / "forms" / "petition_intake.json").read_text(encoding="utf-8"))
    assert {k: own["properties"][k] for k in generic["properties"]} == generic["properties"]
    assert set(generic["required"]) <= set(own["required"])


# -- registration ----------------------------------------------------------------------------------

def test_the_intake_needs_the_petition_number(sessions, runtime, staff, clock):
    without = {k: v for k, v in INTAKE.items() if k != "petition_number"}
    with sessions() as session, pytest.raises(FormInvalid) as raised:
        runtime.start_case(session, "petition", without, "150207", staff)
    assert [e.field for e in raised.value.errors] == ["petition_number"]


def test_registration_and_dispatch_within_15_days(scenario):
    case = scenario.case()
    assert case.data["petition_number"] == "XF150207-2026-00017"
    register = scenario.task("register_dispatch")
    # 15日 from Monday 2 March 2026 → Tuesday 17 March, a working day.
    assert (register.role, register.deadline, register.due_at) == ("analyst", "15 日", end_of_day(2026, 3, 17))
    scenario.do("register_dispatch")
    assert scenario.ready() == ["receipt_decision"]
    assert scenario.doc_types() == ["transfer_order"]
    assert scenario.case().department == "九原区住房和城乡建设局"
    receipt = scenario.task("receipt_decision")
    # 5 工作日 from Monday 2 March: 3, 4, 5, 6 and Monday 9 March.
    assert (receipt.role, receipt.deadline, receipt.due_at) == ("liaison", "5 工作日", end_of_day(2026, 3, 9))


def test_a_high_risk_petition_gets_a_risk_warning_before_the_transfer(scenario):
    scenario.do("register_dispatch", {**ANSWERS["register_dispatch"], "risk_color": "红", "dispatch_decision": "assign"})
    assert scenario.doc_types() == ["risk_warning", "transfer_order"]


def test_a_transfer_needs_a_receiving_organ(scenario):
    with pytest.raises(FormInvalid) as raised:
        scenario.do("register_dispatch", {"risk_color": "黄", "assessment": "研判", "dispatch_decision": "transfer"})
    assert [e.field for e in raised.value.errors] == ["department"]


def test_a_matter_for_the_courts_is_not_accepted_and_the_legal_route_is_given(scenario):
    scenario.do("register_dispatch", {"risk_color": "黄", "assessment": "属民事合同纠纷",
                                      "dispatch_decision": "legal_channel"})
    notice = scenario.task("legal_channel_notice")
    assert (notice.role, notice.deadline) == ("analyst", "5 工作日")
    scenario.do("legal_channel_notice")
    case = scenario.case()
    assert case.status == "terminated"
    assert scenario.doc_types() == ["legal_route"]
    assert "transfer_event" not in scenario.passed()


# -- the receiving organ: accept, or object once ---------------------------------------------------------

def test_acceptance_is_told_in_writing_within_15_days(scenario):
    scenario.do_all("register_dispatch", "receipt_decision")
    notice = scenario.task("notify_acceptance")
    # 15日 from Monday 2 March → Tuesday 17 March.
    assert (notice.role, notice.deadline, notice.due_at) == ("liaison", "15 日", end_of_day(2026, 3, 17))
    scenario.do("notify_acceptance")
    assert scenario.doc_types() == ["transfer_order", "acceptance_notice"]
    assert scenario.ready() == ["handle"]


def test_an_objection_goes_back_to_dispatch_once_then_the_organ_must_handle(scenario):
    scenario.do("register_dispatch")
    scenario.do("receipt_decision", {"receipt": "object", "objection_reason": "属人社部门职责（欠薪）"})
    assert scenario.ready() == ["register_dispatch"]
    assert scenario.case().data["objection_count"] == 1
    scenario.do("register_dispatch", {**ANSWERS["register_dispatch"], "department": "九原区人力资源和社会保障局"})
    assert scenario.doc_types() == ["transfer_order", "transfer_order"]
    scenario.do("receipt_decision", {"receipt": "object", "objection_reason": "仍认为不属本机关"})
    # Bounded: a second objection is not honoured; the organ tells the petitioner and handles the matter.
    assert scenario.ready() == ["notify_acceptance"]
    assert scenario.case().department == "九原区人力资源和社会保障局"


def test_an_objection_needs_a_reason(scenario):
    scenario.do("register_dispatch")
    with pytest.raises(FormInvalid) as raised:
        scenario.do("receipt_decision", {"receipt": "object"})
    assert [e.field for e in raised.value.errors] == ["objection_reason"]


# -- 办理 60日, extension 30日 ---------------------------------------------------------------------------

def test_handling_has_60_days_rolled_past_labour_day(scenario):
    scenario.do_all(*TO_HANDLE)
    handle = scenario.task("handle")
    # 60日 from Monday 2 March: 29 more days of March + 30 of April = 59 → Friday 1 May, in the 劳动节
    # holiday (1–5 May) → Wednesday 6 May.
    assert (handle.role, handle.deadline, handle.due_at) == ("liaison", "60 日", end_of_day(2026, 5, 6))


def test_an_approved_extension_adds_30_days_and_tells_the_petitioner_why(scenario, sessions, runtime):
    scenario.do_all(*TO_HANDLE)
    with sessions() as session:
        request = runtime.request_extension(session, scenario.task("handle").id, "30 日", "需调取工程结算资料", LIAISON)
    with sessions() as session:
        runtime.decide_extension(session, request.id, True, "同意延期", DIRECTOR)
    # 30日 from Wednesday 6 May → Friday 5 June 2026, a working day.
    assert scenario.task("handle").due_at == end_of_day(2026, 6, 5)
    assert {t.kind: t.due_at for t in scenario.timers()}["overdue"] == end_of_day(2026, 6, 5)
    notices = [d for d in scenario.documents() if d.doc_type == "extension_notice"]
    assert len(notices) == 1 and "需调取工程结算资料" in notices[0].html
    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        runtime.request_extension(session, scenario.task("handle").id, "10 日", "再次延期", LIAISON)
    with sessions() as session, pytest.raises(ClockError, match="may not be paused"):
        runtime.pause_clock(session, scenario.task("handle").id, "鉴定", LIAISON)


def test_extensions_beyond_30_days_are_refused(scenario, sessions, runtime):
    scenario.do_all(*TO_HANDLE)
    with sessions() as session, pytest.raises(ClockError, match="at most 30 日"):
        runtime.request_extension(session, scenario.task("handle").id, "31 日", "理由", LIAISON)


def test_the_reminder_and_the_overdue_supervision_of_handling(scenario):
    scenario.do_all(*TO_HANDLE)
    handle = scenario.task("handle")
    scenario.clock.set(handle.warn_at + timedelta(seconds=1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("handle_warning", "warning")]
    assert scenario.doc_types()[-1] == "work_reminder"
    scenario.clock.set(handle.due_at + timedelta(minutes=1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("handle_overdue", "overdue")]
    assert scenario.ready() == ["handle", "supervise"]
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "请五日内办结"})
    assert scenario.ready() == ["handle"]
    assert {"warning_end", "supervision_end"} <= scenario.passed()


def test_an_escalated_supervision_goes_to_the_higher_level_with_a_supervision_letter(scenario):
    scenario.do_all(*TO_HANDLE)
    scenario.clock.set(scenario.task("handle").due_at + timedelta(minutes=1))
    scenario.sweep()
    scenario.do("supervise", {"supervision_decision": "escalate", "supervision_note": "逾期未办结，提请上级督办"})
    assert scenario.ready() == ["escalate_supervision", "handle"]
    escalation = scenario.task("escalate_supervision")
    assert (escalation.role, escalation.deadline) == ("manager", "2 工作日")
    scenario.do("escalate_supervision", {"escalation_instructions": "市级督办：限十日内办结"})
    assert scenario.ready() == ["handle"]  # the organ keeps the petition
    assert [d.doc_type for d in scenario.documents()][-2:] == ["supervision_letter", "supervision_letter"]
    assert "supervision_escalated_end" in scenario.passed()


# -- 处理意见 and the 复查 window ---------------------------------------------------------------------------

def test_no_review_requested_goes_to_follow_up_and_archive(scenario):
    scenario.do_all(*TO_REVIEW_WINDOW)
    assert scenario.doc_types() == ["transfer_order", "acceptance_notice", "result_notice"]
    window = scenario.task("review_request")
    # 30日 from Monday 2 March → Wednesday 1 April; the window closes with the task's limit.
    assert (window.role, window.deadline, window.due_at) == ("clerk", "30 日", end_of_day(2026, 4, 1))
    assert [(t.element_id, t.due_at) for t in scenario.timers()] == [("review_window_closed", window.due_at)]
    scenario.do_all("review_request", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_the_review_window_closes_by_itself_after_30_days(scenario):
    scenario.do_all(*TO_REVIEW_WINDOW)
    window = scenario.task("review_request")
    scenario.clock.set(window.due_at - timedelta(minutes=1))
    assert scenario.sweep().fired == []
    scenario.clock.set(window.due_at + timedelta(minutes=1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("review_window_closed", "expire")]
    assert scenario.ready() == ["follow_up"]
    assert [e.task_id for e in scenario.events("task_cancelled")] == [window.id]
    scenario.do_all("follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_a_requested_review_then_no_recheck(scenario):
    scenario.do_all(*TO_REVIEW_WINDOW)
    scenario.do("review_request", {"review_requested": True, "request_note": "对处理意见不服"})
    review = scenario.task("review")
    assert (review.role, review.deadline, review.due_at) == ("liaison", "30 日", end_of_day(2026, 4, 1))
    scenario.do("review")
    assert scenario.doc_types()[-1] == "result_notice"
    assert scenario.ready() == ["recheck_request"]
    scenario.do_all("recheck_request", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_the_recheck_window_closes_by_itself_after_30_days(scenario):
    scenario.do_all(*TO_REVIEW_WINDOW)
    scenario.do("review_request", {"review_requested": True})
    scenario.do("review")
    window = scenario.task("recheck_request")
    scenario.clock.set(window.due_at + timedelta(minutes=1))
    assert [(f.element_id, f.kind) for f in scenario.sweep().fired] == [("recheck_window_closed", "expire")]
    assert scenario.ready() == ["follow_up"]
    scenario.do_all("follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_recheck_excludes_hearing_time_and_then_the_matter_is_not_accepted_again(scenario, sessions, runtime):
    scenario.do_all(*TO_REVIEW_WINDOW)
    scenario.do("review_request", {"review_requested": True})
    scenario.do("review")
    scenario.do("recheck_request", {"recheck_requested": True, "request_note": "对复查意见不服"})
    recheck = scenario.task("recheck")
    # 30日 from Monday 2 March → Wednesday 1 April.
    assert (recheck.role, recheck.deadline, recheck.due_at) == ("liaison", "30 日", end_of_day(2026, 4, 1))
    scenario.clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI))
    with sessions() as session:
        runtime.pause_clock(session, recheck.id, "听证", LIAISON)
    assert deadline_state(scenario.task("recheck"), scenario.clock.now()) == "暂停"
    scenario.clock.set(datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI))  # the hearing took 7 days
    with sessions() as session:
        runtime.resume_clock(session, recheck.id, LIAISON)
    # 1 April + 7 days of 听证 not counted → Wednesday 8 April, a working day.
    assert scenario.task("recheck").due_at == end_of_day(2026, 4, 8)
    scenario.do("recheck")
    case = scenario.case()
    assert (case.status, scenario.ready()) == ("concluded", [])
    assert scenario.events("case_closed")[-1].summary == "已办结"
    assert {"final_notice_event", "end_final"} <= scenario.passed()
    assert "follow_up_call" not in scenario.passed()
    assert scenario.doc_types() == ["transfer_order", "acceptance_notice", "result_notice", "result_notice",
                                   "result_notice"]


def test_only_a_hearing_may_stop_the_recheck_clock(scenario, sessions, runtime):
    scenario.do_all(*TO_REVIEW_WINDOW)
    scenario.do("review_request", {"review_requested": True})
    scenario.do("review")
    scenario.do("recheck_request", {"recheck_requested": True})
    with sessions() as session, pytest.raises(ClockError, match="听证"):
        runtime.pause_clock(session, scenario.task("recheck").id, "鉴定", LIAISON)


# -- 回访 → 二次督办 → handled again -----------------------------------------------------------------------

def test_dissatisfied_follow_up_sends_the_petition_back_to_the_organ_once(scenario):
    scenario.do_all(*TO_REVIEW_WINDOW, "review_request")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "工程款仍未支付"})
    scenario.do("second_supervision", {"supervision_instructions": "督促落实处理意见"})
    assert scenario.ready() == ["handle"]
    scenario.do_all("handle", "reply", "review_request")
    scenario.do("follow_up", {"satisfaction": "dissatisfied"})
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"


# -- worked dates across 春节 and 国庆 2026 ----------------------------------------------------------------

def test_limits_across_the_spring_festival(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 2, 5, 9, 0, tzinfo=SHANGHAI))  # Thursday 5 February 2026
    case = Petition(sessions, runtime, staff, clock, category="petition", intake=INTAKE, answers=ANSWERS)
    # 15日 from Thu 5 Feb → Fri 20 Feb, inside the 春节 holiday (Sun 15 – Mon 23 Feb) → Tuesday 24 February.
    assert case.task("register_dispatch").due_at == end_of_day(2026, 2, 24)
    clock.set(datetime(2026, 2, 11, 10, 0, tzinfo=SHANGHAI))  # Wednesday 11 February
    case.do("register_dispatch")
    # 5 工作日 from Wed 11 Feb: Thu 12 (1), Fri 13 (2), Sat 14 — a make-up working day — (3);
    # 15–23 Feb rest days; Tue 24 (4), Wed 25 (5) → Wednesday 25 February.
    assert case.task("receipt_decision").due_at == end_of_day(2026, 2, 25)
    clock.set(datetime(2026, 2, 12, 10, 0, tzinfo=SHANGHAI))  # Thursday 12 February
    case.do("receipt_decision")
    # 15日 from Thu 12 Feb → Fri 27 Feb, a working day: the holiday inside the period is not deducted.
    assert case.task("notify_acceptance").due_at == end_of_day(2026, 2, 27)


def test_limits_across_national_day(sessions, runtime, staff, clock):
    case = Petition(sessions, runtime, staff, clock, category="petition", intake=INTAKE, answers=ANSWERS)
    case.do_all("register_dispatch", "receipt_decision")
    clock.set(datetime(2026, 8, 3, 9, 0, tzinfo=SHANGHAI))  # Monday 3 August 2026
    case.do("notify_acceptance")
    # 60日 from Mon 3 Aug: 28 more days of August + 30 of September = 58 → Fri 2 October, in the 国庆 holiday
    # (1–7 Oct) → Thursday 8 October.
    assert case.task("handle").due_at == end_of_day(2026, 10, 8)
    clock.set(datetime(2026, 9, 10, 15, 0, tzinfo=SHANGHAI))  # Thursday 10 September
    case.do_all("handle", "reply")
    # 30日 from Thu 10 Sep → Sat 10 October, a make-up working day after 国庆: the window ends that day.
    window = case.task("review_request")
    assert window.due_at == end_of_day(2026, 10, 10)
    assert {t.element_id: t.due_at for t in case.timers()}["review_window_closed"] == end_of_day(2026, 10, 10)
