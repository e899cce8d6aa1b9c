"""包头·东河区 (150202) runs its own variant: the three 单 at 受理 / 分流 / 结果, a 工作提示函 at 临期, a
风险预警函 for high risk and the five-colour 红橙黄蓝绿 scheme (seed 000). Everything on a fake clock."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import auto_letters
from engine.actors import Actor
from engine.models import CaseEvent
from engine.runtime import CaseRuntime
from engine.variant_lookup import ancestors
from tests.engine.scenario import CaseScenario, mediate
from tests.engine.variant_trees import copy_processes, edit, load

DONGHE = "150202"
STAFF = Actor.of("donghe.staff", {"clerk", "analyst", "mediator", "director", "manager"}, DONGHE,
                 "东河区社会治理综合服务中心")
RED = {"risk_color": "红", "complexity": "ordinary", "assessment": "双方多次冲突，有激化苗头"}
THREE_NOTICES = ("acceptance_notice", "transfer_order", "result_notice")


def letters(sessions, case_id: int) -> list[CaseEvent]:
    with sessions() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                            CaseEvent.kind == auto_letters.EVENT_KIND)
                                    .order_by(CaseEvent.id)))


def tick(case: CaseScenario) -> None:
    """What the scheduler does every minute: the timer sweep, then the locality jobs."""
    case.sweep()
    auto_letters.run_due(case.sessions, case.runtime)


def test_donghe_offers_five_colours_and_switches_on_its_documents_and_letters(registry):
    variant = registry.variants.get(DONGHE)
    assert variant.settings["stage_documents"] == dict(zip(("accepted", "dispatched", "concluded"), THREE_NOTICES))
    assert variant.settings["letters"] == {"at_warning": "work_reminder", "high_risk": "risk_warning"}
    assess = registry.variants.resolve("neighbour", ancestors(None, DONGHE)).bundle().forms["assess"]
    assert [o["const"] for o in assess["properties"]["risk_color"]["oneOf"]] == ["红", "橙", "黄", "蓝", "绿"]


def test_a_donghe_case_gets_each_notice_once_a_reminder_at_its_limit_and_a_risk_warning(sessions, runtime, clock):
    case = CaseScenario(sessions, runtime, STAFF, clock, jurisdiction=DONGHE)
    case.do("accept")
    assert case.doc_types() == ["acceptance_notice"]  # 受理告知单 at 受理
    case.do("assess", RED)
    tick(case)
    # Judged 红: one 风险预警函 (the process issues it at 研判; the locality's job adds no second).
    assert case.doc_types().count("risk_warning") == 1
    assert case.case().risk_color == "红"

    # 分流转办 reaches 临期 before the director decides: the locality's job reminds, once.
    dispatch = case.task("dispatch")
    clock.set(dispatch.warn_at - timedelta(minutes=1))
    tick(case)
    assert "work_reminder" not in case.doc_types()
    clock.set(dispatch.warn_at + timedelta(minutes=1))
    tick(case)
    tick(case)
    reminded = letters(sessions, case.case_id)
    assert [(e.task_id, e.data["moment"], e.data["doc_type"]) for e in reminded] == [
        (dispatch.id, "at_warning", "work_reminder")]
    assert reminded[0].data["number"].startswith(f"{DONGHE}-2026-提")

    case.dispatch_as_routed()
    assert case.doc_types().count("transfer_order") == 1  # 转送交办单 at 分流
    # 调处 (20 日 in 东河区, warned at 70 %): no 工作提示函 before its 临期, exactly one after.
    mediation = case.task("mediate")
    clock.set(mediation.warn_at - timedelta(hours=1))
    tick(case)
    assert case.doc_types().count("work_reminder") == 1  # only the one about 分流转办
    clock.set(mediation.warn_at + timedelta(minutes=1))
    tick(case)
    tick(case)
    reminders = [d for d in case.documents() if d.doc_type == "work_reminder"]
    assert len(reminders) == 2 and reminders[-1].element_id == "mediate_warning"

    case.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert case.case().status == "concluded"
    types = case.doc_types()
    for doc_type in THREE_NOTICES:
        assert types.count(doc_type) == 1, (doc_type, types)  # 结果告知单 at 结果, none twice


@pytest.fixture
def bare_runtime(tmp_path, clock) -> CaseRuntime:
    """processes/ as it is, except that the 邻里 process declares none of the three 单 nor the 风险预警函 —
    as a category designed without them would: the locality's switches must then issue them."""
    processes = copy_processes(tmp_path)
    bpmn = processes / "neighbour" / "neighbour.bpmn"
    for doc_type in ("acceptance_notice", "risk_warning", "transfer_order", "result_notice"):
        edit(bpmn, f'<spiffworkflow:property name="documents" value="{doc_type}" />',
             '<spiffworkflow:property name="role_note" value="-" />')
    return CaseRuntime(load(processes), clock)


def test_the_switches_issue_what_a_process_does_not(sessions, bare_runtime, clock):
    donghe = CaseScenario(sessions, bare_runtime, STAFF, clock, jurisdiction=DONGHE)
    jiuyuan = CaseScenario(sessions, bare_runtime, Actor.of("jiuyuan", STAFF.roles, "150207", "九原区"), clock,
                           jurisdiction="150207")
    for case in (donghe, jiuyuan):
        case.do("accept")
        case.do("assess", RED)
    auto_letters.run_due(sessions, bare_runtime)
    auto_letters.run_due(sessions, bare_runtime)
    assert donghe.doc_types() == ["acceptance_notice", "risk_warning"]
    assert [e.data["moment"] for e in letters(sessions, donghe.case_id)] == ["high_risk"]
    assert jiuyuan.doc_types() == []  # 九原区 switches neither on
    for case in (donghe, jiuyuan):
        case.dispatch_as_routed()
        case.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert donghe.doc_types().count("transfer_order") == 1
    assert donghe.doc_types().count("result_notice") == 1
    stages = [e.data.get("stage") for e in donghe.events("document_issued") if e.data.get("stage")]
    assert stages == ["accepted", "dispatched", "concluded"]
    assert "result_notice" not in jiuyuan.doc_types()
