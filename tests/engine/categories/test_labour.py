"""劳动争议 (with the 欠薪 variant): every path of processes/labour/ through the engine with a fake clock.

劳动争议调解 lasts 15日 (劳动争议调解仲裁法 第14条); an agreement that is not performed leads to 仲裁
(第15条) or, for wages and the like, to a 支付令 (第16条). 欠薪 cases also go to 劳动保障监察 in parallel:
accept in 5个工作日, investigate in 60个工作日 (+30个工作日 once).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from tests.engine.scenario import CaseScenario, mediate

LIAISON = Actor.of("liaison", frozenset({"liaison"}), "150207", "人社局劳动保障监察大队联络员")
DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")

INTAKE = {
    "title": "某建筑公司拖欠工资",
    "summary": "项目完工后公司未发放最后两个月工资。",
    "channel": "walk_in",
    "applicant_name": "王强",
    "applicant_phone": "13904720011",
    "employer_name": "九原某建筑工程有限公司",
    "workers_count": 1,
    "wage_amount": 12000,
}

ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"wage_arrears": False, "workers_count": 1, "wage_amount": 0, "assessment": "解除劳动合同经济补偿争议"},
    "dispatch": {"handling_level": "township", "department": "乡镇（街道）劳动争议调解组织"},
    "agreement": {"agreement_terms": "公司于十日内支付经济补偿", "agreement_amount": 8000,
                  "performance_deadline": "2026-03-20", "wage_agreement": True},
    "performance_check": {"performed": True, "performance_note": "已足额支付"},
    "payment_order_guidance": {"court": "九原区人民法院", "guidance_note": "告知持调解协议书申请支付令"},
    "breach_notice": {"arbitration_commission": "九原区劳动人事争议仲裁委员会", "guidance_note": "告知可申请仲裁"},
    "arbitration_notice": {"termination_reason": "用人单位拒绝调解", "arbitration_commission": "九原区劳动人事争议仲裁委员会"},
    "inspection_accept": {"inspection_accepted": True, "inspection_case_number": "九人社监〔2026〕1号"},
    "inspection": {"inspection_result": "paid", "paid_amount": 360000, "inspection_note": "责令支付，已全部支付"},
    "notify_result": {"notice_method": "phone"},
    "follow_up": {"satisfaction": "satisfied"},
    "second_supervision": {"supervision_instructions": "督促用人单位履行"},
    "archive": {"archive_note": "归档"},
}

ARREARS_ASSESS = {"wage_arrears": True, "workers_count": 12, "wage_amount": 360000, "assessment": "农民工群体欠薪"}


def at(year, month, day, hour=23, minute=59, second=59) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def new_case(sessions, runtime, staff, clock, **kw) -> CaseScenario:
    return CaseScenario(sessions, runtime, staff, clock, category="labour", intake=INTAKE, answers=ANSWERS, **kw)


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return new_case(sessions, runtime, staff, clock)


def start_arrears_case(scenario) -> None:
    scenario.do("accept")
    scenario.do("assess", ARREARS_ASSESS)
    scenario.do("dispatch", {"handling_level": "county", "department": "县（区）劳动人事争议调解中心"})


# -- 受理 ---------------------------------------------------------------------------------------

def test_the_intake_form_asks_for_the_employer_and_the_workers(scenario):
    case = scenario.case()
    assert case.intake["employer_name"] == "九原某建筑工程有限公司"
    assert scenario.ready() == ["accept"]


def test_a_rejected_application_terminates_the_case(scenario):
    scenario.do("accept", {"accepted": False, "reject_reason": "不属于劳动争议"})
    assert scenario.case().status == "terminated"
    assert scenario.ready() == []
    assert "acceptance_notice_event" not in scenario.passed()


# -- 调解 → 协议 → 履行回访 ---------------------------------------------------------------------------

def test_an_agreement_the_employer_performs_is_told_followed_up_and_archived(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    assert scenario.ready() == ["mediate"]
    # 15日 from Monday 2 March 2026: 2 + 15 = Tuesday 17 March, a working day.
    assert scenario.task("mediate").due_at == at(2026, 3, 17)
    scenario.do("mediate", mediate("success"))
    scenario.do("agreement")
    # 履行回访 30日 [U]: 2 March + 30 = Wednesday 1 April 2026, a working day.
    assert scenario.task("performance_check").due_at == at(2026, 4, 1)
    scenario.do_all("performance_check", "notify_result", "follow_up")
    assert scenario.ready() == ["archive"]
    scenario.do("archive")
    assert scenario.case().status == "concluded"
    assert scenario.doc_types() == ["acceptance_notice", "transfer_order", "mediation_agreement", "result_notice"]
    assert scenario.timers() == []


def test_an_unpaid_wage_agreement_leads_to_the_payment_order_guidance(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("success")), "agreement")
    scenario.do("performance_check", {"performed": False, "performance_note": "逾期未支付"})
    assert scenario.ready() == ["payment_order_guidance"]
    scenario.do("payment_order_guidance")
    assert scenario.ready() == ["notify_result"]
    assert scenario.doc_types()[-1] == "legal_route"
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


def test_another_unperformed_agreement_leads_to_arbitration_under_article_15(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("success")))
    scenario.do("agreement", {"agreement_terms": "公司为申请人补办社会保险", "wage_agreement": False})
    scenario.do("performance_check", {"performed": False})
    assert scenario.ready() == ["breach_notice"]
    scenario.do("breach_notice")
    assert scenario.ready() == ["notify_result"]
    # The mediation itself succeeded: a 法治化路线图, but no 调解终结书.
    assert "mediation_termination" not in scenario.doc_types()
    assert scenario.doc_types()[-1] == "legal_route"


def test_a_failed_mediation_tells_the_parties_they_may_apply_for_arbitration(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("failure")))
    assert scenario.ready() == ["arbitration_notice"]
    # 告知 3 工作日 [U] from Monday 2 March: 3, 4, 5 March → Thursday 5 March.
    assert scenario.task("arbitration_notice").due_at == at(2026, 3, 5)
    scenario.do("arbitration_notice")
    assert scenario.doc_types()[-2:] == ["mediation_termination", "legal_route"]
    scenario.do_all("notify_result", "follow_up", "archive")
    assert scenario.case().status == "concluded"


# -- 15日 ends the mediation (and crosses 国庆 2026) ------------------------------------------------

@pytest.fixture
def national_day_case(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 9, 21, 9, 0, tzinfo=SHANGHAI))  # Monday 21 September 2026
    case = new_case(sessions, runtime, staff, clock)
    case.do_all("accept", "assess", "dispatch")
    return case


def test_fifteen_days_across_national_day_end_on_the_first_working_day_after_it(national_day_case):
    mediation = national_day_case.task("mediate")
    # 15日 from Monday 21 September 2026: 21 + 15 = Tuesday 6 October, inside 国庆 (1–7 October off;
    # holidays inside a 日 period are not deducted, only the last day rolls) → Thursday 8 October.
    assert mediation.due_at == at(2026, 10, 8)
    assert {t.kind for t in national_day_case.timers()} == {"warning", "overdue", "expire"}
    expired = [t for t in national_day_case.timers() if t.element_id == "mediate_expired"]
    assert expired[0].due_at == mediation.due_at


def test_the_reminder_fires_at_eighty_percent_and_the_mediator_can_still_settle(national_day_case):
    mediation = national_day_case.task("mediate")
    national_day_case.clock.set(mediation.warn_at + timedelta(minutes=1))
    fired = national_day_case.sweep().fired
    assert [(f.element_id, f.kind) for f in fired] == [("mediate_warning", "warning")]
    assert "work_reminder" in national_day_case.doc_types()
    national_day_case.do("mediate", mediate("success"))
    assert national_day_case.ready() == ["agreement"]


def test_no_agreement_within_fifteen_days_ends_mediation_and_starts_supervision(national_day_case):
    mediation = national_day_case.task("mediate")
    national_day_case.clock.set(mediation.due_at + timedelta(minutes=1))
    fired = national_day_case.sweep().fired
    assert sorted(f.element_id for f in fired) == ["mediate_expired", "mediate_overdue", "mediate_warning"]
    # The law ends the stage: the mediation task is withdrawn, the parties are told about 仲裁, and the
    # director supervises the case that ran out of time.
    assert national_day_case.ready() == ["arbitration_notice", "supervise"]
    assert [e.element_id for e in national_day_case.events("task_cancelled")] == ["mediate"]
    national_day_case.do("supervise", {"supervision_decision": "continue", "supervision_note": "尽快告知仲裁途径"})
    assert "supervision_end" in national_day_case.passed()
    national_day_case.do("arbitration_notice")
    assert national_day_case.doc_types()[-2:] == ["mediation_termination", "legal_route"]


def test_supervision_may_escalate_an_expired_mediation_with_a_risk_warning(national_day_case):
    national_day_case.clock.set(national_day_case.task("mediate").due_at + timedelta(minutes=1))
    national_day_case.sweep()
    national_day_case.do("supervise", {"supervision_decision": "escalate", "supervision_note": "升级预警"})
    assert {"escalate_warning_event", "supervision_end_escalated"} <= national_day_case.passed()
    assert national_day_case.doc_types().count("risk_warning") == 1
    assert national_day_case.ready() == ["arbitration_notice"]


# -- 欠薪: group risk --------------------------------------------------------------------------------

@pytest.mark.parametrize("arrears, workers, amount, colour, level", [
    (True, 12, 5000, "红", "county"),       # 10 workers or more: 群体性
    (True, 1, 100000, "红", "county"),      # 10万元 or more
    (True, 3, 1000, "橙", "township"),      # 3 workers or more
    (True, 1, 30000, "橙", "township"),     # 3万元 or more
    (True, 2, 29999.5, "黄", "township"),
    (False, 10, 0, "红", "county"),         # a collective labour dispute (第7条) is 红 too
    (False, 9, 500000, "黄", "township"),   # amounts only count for 欠薪
])
def test_the_group_risk_table(scenario, arrears, workers, amount, colour, level):
    scenario.do("accept")
    scenario.do("assess", {"wage_arrears": arrears, "workers_count": workers, "wage_amount": amount,
                           "assessment": "研判"})
    case = scenario.case()
    assert (case.risk_color, case.handling_level) == (colour, level)
    assert scenario.task("dispatch").form_defaults["handling_level"] == level
    assert ("risk_warning_event" in scenario.passed()) is (colour in ("红", "橙"))
    assert ("risk_warning" in scenario.doc_types()) is (colour in ("红", "橙"))


# -- 欠薪: 劳动保障监察 in parallel with mediation ------------------------------------------------------

@pytest.fixture
def arrears_case(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI))  # Monday 5 January 2026
    case = new_case(sessions, runtime, staff, clock)
    start_arrears_case(case)
    return case


def test_wage_arrears_go_to_labour_inspection_alongside_mediation(arrears_case):
    assert arrears_case.ready() == ["inspection_accept", "mediate"]
    accept = arrears_case.task("inspection_accept")
    assert accept.role == "liaison"
    # 5 工作日 from Monday 5 January 2026: 6, 7, 8, 9, 12 January → Monday 12 January.
    assert accept.due_at == at(2026, 1, 12)
    assert arrears_case.doc_types() == ["acceptance_notice", "risk_warning", "transfer_order"]


def test_sixty_working_days_of_inspection_cross_the_spring_festival(arrears_case):
    arrears_case.do("inspection_accept", actor=LIAISON)
    inspection = arrears_case.task("inspection")
    # 60 工作日 from Monday 5 January 2026: January 6–9, 12–16, 19–23, 26–30 give 19; February 2–6 (24),
    # 9–13 and Saturday 14 (make-up day) (30), 春节 15–23 February off, 24–27 and Saturday 28 (make-up) (35);
    # March 2–31 has 22 working days (57); April 1, 2, 3 → Friday 3 April 2026 is the 60th.
    assert inspection.due_at == at(2026, 4, 3)
    # The mediation's own 15日 runs alongside: 5 January + 15 = Tuesday 20 January.
    assert sorted(t.due_at for t in arrears_case.timers() if t.kind == "overdue") == [at(2026, 1, 20), inspection.due_at]


def test_the_mediation_waits_for_the_inspection_before_the_result_is_told(arrears_case):
    arrears_case.do("inspection_accept", actor=LIAISON)
    arrears_case.do_all(("mediate", mediate("success")), "agreement", "performance_check")
    assert arrears_case.ready() == ["inspection"]  # the mediation line waits at the join
    arrears_case.do("inspection", actor=LIAISON)
    assert arrears_case.ready() == ["notify_result"]
    assert {"arrears_split", "arrears_join", "inspection_done"} <= arrears_case.passed()
    arrears_case.do_all("notify_result", "follow_up", "archive")
    assert arrears_case.case().status == "concluded"


def test_a_declined_inspection_still_joins_the_mediation(arrears_case):
    arrears_case.do("inspection_accept", {"inspection_accepted": False,
                                          "inspection_accept_note": "已申请仲裁，依条例第21条告知按争议程序办理"},
                    actor=LIAISON)
    assert arrears_case.ready() == ["mediate"]
    arrears_case.do("mediate", mediate("failure"))
    arrears_case.do("arbitration_notice")
    assert arrears_case.ready() == ["notify_result"]
    assert "inspection" not in [e.element_id for e in arrears_case.events("task_created")]


def test_an_approved_extension_adds_thirty_working_days_to_the_inspection(arrears_case, sessions, runtime):
    arrears_case.do("inspection_accept", actor=LIAISON)
    task = arrears_case.task("inspection")
    with sessions() as session:
        request = runtime.request_extension(session, task.id, "30 工作日", "涉及多个分包单位，情况复杂", LIAISON)
    with sessions() as session:
        runtime.decide_extension(session, request.id, True, "同意延长", DIRECTOR)
    # 30 工作日 from Friday 3 April 2026: April 7–10 (4; 4–6 清明), 13–17 (9), 20–24 (14), 27–30 (18);
    # May 1–5 劳动节 off, 6–8 and Saturday 9 (make-up) (22), 11–15 (27), 18, 19, 20 → Wednesday 20 May.
    extended = arrears_case.task("inspection").due_at
    assert extended == at(2026, 5, 20)
    assert [t.due_at for t in arrears_case.timers() if t.element_id == "inspection_overdue"] == [extended]
    assert arrears_case.doc_types()[-1] == "extension_notice"
    with sessions() as session, pytest.raises(Exception, match="already been extended"):
        runtime.request_extension(session, task.id, "30 工作日", "再次延长", LIAISON)


def test_an_overdue_inspection_is_supervised_and_may_be_escalated(arrears_case):
    arrears_case.do("inspection_accept", actor=LIAISON)
    arrears_case.do_all(("mediate", mediate("success")), "agreement", "performance_check")
    inspection = arrears_case.task("inspection")
    arrears_case.clock.set(inspection.warn_at + timedelta(minutes=1))
    assert [f.element_id for f in arrears_case.sweep().fired] == ["inspection_warning"]
    arrears_case.clock.set(inspection.due_at + timedelta(minutes=1))
    assert [f.kind for f in arrears_case.sweep().fired] == ["overdue"]
    assert arrears_case.case().is_overdue
    assert arrears_case.ready() == ["inspection", "supervise"]
    arrears_case.do("supervise", {"supervision_decision": "escalate", "supervision_note": "监察超期，升级预警"})
    assert {"inspection_escalate_event", "inspection_supervision_end_escalated"} <= arrears_case.passed()
    assert arrears_case.doc_types().count("risk_warning") == 2  # 红 at 研判, then the escalation
    arrears_case.do("inspection", actor=LIAISON)
    assert arrears_case.ready() == ["notify_result"]


def test_continued_supervision_of_the_inspection_leaves_it_with_the_department(arrears_case):
    arrears_case.do("inspection_accept", actor=LIAISON)
    arrears_case.do_all(("mediate", mediate("success")), "agreement", "performance_check")
    arrears_case.clock.set(arrears_case.task("inspection").due_at + timedelta(minutes=1))
    arrears_case.sweep()
    assert arrears_case.ready() == ["inspection", "supervise"]
    arrears_case.do("supervise", {"supervision_decision": "continue", "supervision_note": "请加快调查"})
    assert "inspection_supervision_end" in arrears_case.passed()
    assert arrears_case.ready() == ["inspection"]


def test_five_working_days_for_acceptance_across_the_spring_festival(sessions, runtime, staff, clock):
    clock.set(datetime(2026, 2, 11, 9, 0, tzinfo=SHANGHAI))  # Wednesday 11 February 2026
    case = new_case(sessions, runtime, staff, clock)
    start_arrears_case(case)
    # 5 工作日 from Wednesday 11 February 2026: 12, 13, Saturday 14 (make-up day), then 春节 15–23 off,
    # 24, 25 → Wednesday 25 February.
    assert case.task("inspection_accept").due_at == at(2026, 2, 25)


# -- 回访 and 二次督办 ---------------------------------------------------------------------------------

def test_a_dissatisfied_party_gets_the_dispute_mediated_again(scenario):
    scenario.do_all("accept", "assess", "dispatch", ("mediate", mediate("success")), "agreement",
                    "performance_check", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "补偿金额不足"})
    scenario.do("second_supervision")
    assert scenario.ready() == ["mediate"]
    scenario.do("mediate", mediate("failure"))
    scenario.do_all("arbitration_notice", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied"})
    assert scenario.ready() == ["archive"]  # one 二次督办 only
    scenario.do("archive")
    assert scenario.case().status == "concluded"


def test_a_second_mediation_of_an_arrears_case_does_not_wait_for_another_inspection(arrears_case):
    arrears_case.do("inspection_accept", actor=LIAISON)
    arrears_case.do("inspection", actor=LIAISON)
    arrears_case.do_all(("mediate", mediate("success")), "agreement", "performance_check", "notify_result")
    arrears_case.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "仍有工资未付"})
    arrears_case.do("second_supervision")
    assert arrears_case.ready() == ["mediate"]
    arrears_case.do_all(("mediate", mediate("success")), "agreement", "performance_check")
    assert arrears_case.ready() == ["notify_result"]
    arrears_case.do_all("notify_result", "follow_up", "archive")
    assert arrears_case.case().status == "concluded"
