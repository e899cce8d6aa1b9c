"""酒泉·肃州区 (620902) runs its own variant: 受理 → 分流 → 研判 → 处置 → 回访 → 结案, simple requests closed on
the spot, overdue cases chased automatically, 二次督办 when a citizen is dissatisfied, 12345 cases in and
results back, 周梳理 / 月报告 counting them (seed 002). Everything runs on a fake clock."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import auto_letters, channels, jurisdictions
from engine.actors import Actor
from engine.closed_within import closed_within_rule
from engine.cockpit_metrics import month_of, week_of
from engine.cockpit_reports import monthly_report, weekly_report
from engine.errors import FormInvalid
from engine.locality_jobs import JOBS
from engine.models import Case, CaseEvent, ChannelNotification
from engine.variant_lookup import ancestors
from tests.engine.scenario import INTAKE, CaseScenario, mediate

SUZHOU = "620902"
STAFF = Actor.of("suzhou.staff", {"clerk", "analyst", "mediator", "director", "manager"}, SUZHOU,
                 "肃州区社会治理综合服务中心")
ON_THE_SPOT = {**INTAKE, "title": "咨询物业维修基金使用程序", "on_the_spot": True,
               "on_the_spot_answer": "已当场告知维修基金申请流程及所需材料，群众表示清楚。"}
SUBMISSION = {
    "reference": "JQ12345-2026-0301",
    "category": "neighbour",
    "jurisdiction": SUZHOU,
    "title": "晋城路8号院楼上漏水",
    "facts": "12345 工单：楼上卫生间漏水，楼下天花板受损，要求协调维修。",
    "applicant": {"name": "王秀英", "phone": "13909370001"},
    "respondent": {"name": "赵刚"},
}


@pytest.fixture
def suzhou(sessions):
    with sessions() as session:
        jurisdictions.save(session, SUZHOU, "肃州区", "county", None, "肃州区社会治理综合服务中心")
        session.commit()


def scenario(sessions, runtime, clock, intake=None) -> CaseScenario:
    return CaseScenario(sessions, runtime, STAFF, clock, jurisdiction=SUZHOU, intake=intake)


def letters(sessions, case_id: int) -> list[CaseEvent]:
    with sessions() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                            CaseEvent.kind == auto_letters.EVENT_KIND)
                                    .order_by(CaseEvent.id)))


def test_suzhou_switches_are_configured_in_its_variant(registry):
    chain = ancestors(None, SUZHOU)
    variant = registry.variants.get(SUZHOU)
    assert variant.name == "肃州区" and variant.settings["on_the_spot"] is True
    assert variant.settings["letters"]["at_overdue"] == "supervision_letter"
    assert registry.variants.resolve("neighbour", chain).intake_form == "on_the_spot_intake"
    # Only 肃州区's registration form offers 当场办结; 九原区's does not.
    assert "on_the_spot" not in registry.category("neighbour").bundle.forms["intake"]["properties"]
    assert "auto_letters" in JOBS


def test_a_simple_request_is_registered_and_closed_on_the_spot_in_one_step(sessions, runtime, clock, suzhou):
    case = scenario(sessions, runtime, clock, ON_THE_SPOT)
    closed = case.case()
    assert (closed.status, closed.outcome) == ("concluded", "resolved")
    assert closed.closed_at == closed.created_at == clock.now()
    assert case.ready() == [] and case.timers() == []
    assert {"on_the_spot_gateway", "on_the_spot_close", "end_on_the_spot"} <= case.passed()
    kinds = [e.kind for e in case.events()]
    assert kinds[0] == "case_started" and "case_closed" in kinds
    # 结果告知单 from the locality's [stage_documents] concluded: the BPMN path declares none itself.
    assert case.doc_types() == ["result_notice"]
    issued = case.events("document_issued")
    assert [e.data["stage"] for e in issued] == ["concluded"]
    # Counted by the cockpit as received and closed the same day.
    with sessions() as session:
        report = weekly_report(session, STAFF, SUZHOU, week_of(date(2026, 3, 2)), clock.now())
    counts = {line.key: line.current for line in report.summary}
    assert counts["received"] == 1 and counts["closed"] == 1 and counts["resolved"] == 1


def test_closing_on_the_spot_needs_the_answer_given(sessions, runtime, clock, suzhou):
    with pytest.raises(FormInvalid):
        scenario(sessions, runtime, clock, {**ON_THE_SPOT, "on_the_spot_answer": ""})
    normal = scenario(sessions, runtime, clock, {**INTAKE, "on_the_spot": False})
    assert normal.ready() == ["accept"]


def test_an_overdue_task_is_chased_with_one_supervision_letter(sessions, runtime, clock, suzhou):
    case = scenario(sessions, runtime, clock)
    case.do_all("accept", "assess", "dispatch")
    mediation = case.task("mediate")
    assert auto_letters.run_due(sessions, runtime) == 0
    clock.set(mediation.warn_at + timedelta(minutes=1))
    case.sweep()
    auto_letters.run_due(sessions, runtime)
    # At 临期 the process issues its own 工作提示函: the job does not issue a second.
    assert case.doc_types().count("work_reminder") == 1
    assert [e.data["moment"] for e in letters(sessions, case.case_id)
            if e.task_id == mediation.id] == []
    clock.set(mediation.due_at + timedelta(minutes=1))
    case.sweep()
    assert auto_letters.run_due(sessions, runtime) >= 1
    assert auto_letters.run_due(sessions, runtime) == 0  # idempotent: once per task and moment
    chased = [e for e in letters(sessions, case.case_id) if e.task_id == mediation.id]
    assert [(e.data["moment"], e.data["doc_type"]) for e in chased] == [("at_overdue", "supervision_letter")]
    assert chased[0].data["number"].startswith(f"{SUZHOU}-2026-督")
    # The 催办 goes to the handler's queue: the mediation task is still theirs, flagged overdue.
    assert case.task("mediate").overdue_at is not None


def test_a_dissatisfied_follow_up_leads_to_a_second_supervision(sessions, runtime, clock, suzhou):
    case = scenario(sessions, runtime, clock)
    case.do_all("accept", "assess", "dispatch", ("mediate", mediate("success")), "agreement", "notify_result")
    case.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "漏水未修好"})
    assert case.ready() == ["second_supervision"]
    case.do("second_supervision")
    case.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    closed = case.case()
    assert closed.status == "concluded" and closed.second_supervision_count == 1
    with sessions() as session:
        report = weekly_report(session, STAFF, SUZHOU, week_of(clock.now().date()), clock.now())
    assert report.follow_ups.total == 1


def test_a_12345_case_comes_in_and_its_results_go_back(sessions, runtime, clock, suzhou):
    with sessions() as session:
        channel = channels.create_channel(session, "jq-12345", "酒泉12345政务服务便民热线", "hotline_12345",
                                          "admin", clock.now())
        channels.set_callback(channel, "https://12345.jiuquan.example.cn/callback")
        _token, plain = channels.issue_token(session, channel, SUZHOU, "admin", clock.now())
        session.commit()
    with sessions() as session:
        principal = channels.authenticate(session, plain, clock.now())
        submitted = channels.submit(session, runtime, principal, SUBMISSION)
        case_id = submitted.case.id
    case = CaseScenario.of(sessions, runtime, STAFF, clock, case_id)
    assert case.case().handling_jurisdiction_code == SUZHOU
    case.do_all("accept", "assess", "dispatch", ("mediate", mediate("success")), "agreement", "notify_result",
                "follow_up", "archive")
    with sessions() as session:
        results = session.scalars(select(ChannelNotification.result).where(ChannelNotification.case_id == case_id)
                                  .order_by(ChannelNotification.sequence)).all()
    assert results == ["accepted", "dispatched", "concluded"]
    # 周梳理 and 月报告 of 肃州区 count it by its channel, with the 4-working-day share.
    with sessions() as session:
        rule = closed_within_rule(session, runtime.registry.variants, runtime.calendar_loader, SUZHOU)
        month = monthly_report(session, STAFF, SUZHOU, month_of(date(2026, 3, 2)), clock.now(), closed_within=rule)
        week = weekly_report(session, STAFF, SUZHOU, week_of(date(2026, 3, 2)), clock.now(), closed_within=rule)
    assert [(line.label, line.received) for line in month.channel_lines if line.received] == [("12345热线", 1)]
    assert {line.key: line.current for line in week.summary}["received"] == 1
    assert any(line.key == "closed_within" for line in month.overall)


def test_the_switch_decides_whatever_a_form_offers(sessions, clock, tmp_path, suzhou):
    from engine.runtime import CaseRuntime
    from tests.engine.variant_trees import copy_processes, edit, load

    processes = copy_processes(tmp_path)
    edit(processes / "variants" / SUZHOU / "variant.toml", "on_the_spot = true", "on_the_spot = false")
    runtime = CaseRuntime(load(processes), clock)
    with pytest.raises(FormInvalid) as refused:
        scenario(sessions, runtime, clock, ON_THE_SPOT)
    assert [e.field for e in refused.value.errors] == ["on_the_spot"]
    with sessions() as session:
        assert session.scalar(select(Case.id)) is None  # nothing stored
