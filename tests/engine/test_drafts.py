"""Process drafts: designers edit a category in the browser, see problems at the element, compare
with the version in force and publish — running cases keep their version."""
from __future__ import annotations

import pytest

from engine.actors import Actor
from engine.draft_compare import compare_files
from engine.drafts import (DraftConflict, approve_draft, compare, download, open_draft, publish_draft,
                           restore_as_draft, save_draft, upload)
from engine.errors import Forbidden, VersionError
from engine.models import ProcessVersion
from engine.runtime import CaseRuntime
from engine.versions import history, in_force
from tests.engine.scenario import CaseScenario
from tests.engine.variant_trees import staff_at

JIUYUAN, DONGHE = "150207", "150202"
WANG = Actor.of("wang", {"designer"}, "", "王设计")  # designs the base every county inherits
LI = Actor.of("li", {"designer"}, "", "李设计")
DONGHE_DESIGNER = Actor.of("zhao", {"designer"}, DONGHE, "赵设计")
DONGHE_REVIEWER = Actor.of("qian", {"designer"}, DONGHE, "钱设计")

NEW_TASK = """
    <bpmn:userTask id="visit" name="上门回访">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="form" value="no_such_form" />
          <spiffworkflow:property name="role" value="mediator" />
          <spiffworkflow:property name="deadline" value="3 工作日" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
"""

BPMN_IO_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn"
    exporter="bpmn-js (https://demo.bpmn.io)" exporterVersion="17.0.0">
  <bpmn:process id="neighbour_dispute" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Activity_1" name="受理">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="Event_1">
      <bpmn:incoming>Flow_2</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_1" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_1" targetRef="Event_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="neighbour_dispute">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="152" y="82" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_1_di" bpmnElement="Activity_1">
        <dc:Bounds x="240" y="60" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_1_di" bpmnElement="Event_1">
        <dc:Bounds x="392" y="82" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="188" y="100" />
        <di:waypoint x="240" y="100" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2">
        <di:waypoint x="340" y="100" />
        <di:waypoint x="392" y="100" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def renamed(files: dict[str, str], old: str, new: str) -> dict[str, str]:
    assert old in files["neighbour.bpmn"], old
    return {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace(old, new, 1)}


def test_a_save_on_top_of_a_newer_revision_is_refused_and_keeps_what_was_typed(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        session.commit()
        opened = draft.revision
        assert draft.problems == [] and "neighbour.bpmn" in draft.files and "routing.dmn" in draft.files
        clock.advance(hours=1, minutes=42)  # 10:42 in Baotou
        save_draft(session, registry, draft.id, renamed(draft.files, 'name="分析研判"', 'name="风险研判"'), opened,
                   LI, clock.now(), "研判环节更名")
        session.commit()
        mine = renamed(draft.files, 'name="受理审查"', 'name="受理"')
        with pytest.raises(DraftConflict) as refused:
            save_draft(session, registry, draft.id, mine, opened, WANG, clock.now())
        assert str(refused.value) == ("saved by li at 10:42 after you opened it (revision 2); "
                                      "reload to see their changes — your edit is kept below")
        assert refused.value.rejected_files == mine
        session.rollback()
        assert 'name="风险研判"' in download(session, draft.id, "neighbour.bpmn")


def test_problems_are_stored_at_the_element_with_the_texts_of_fengqiao_check(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        files = renamed(draft.files, '<spiffworkflow:property name="deadline" value="1 工作日" />', "")
        files = renamed(files, '<bpmn:userTask id="assess"', NEW_TASK + '    <bpmn:userTask id="assess"')
        saved = save_draft(session, registry, draft.id, files, draft.revision, WANG, clock.now())
        at_visit = [p["message"] for p in saved.problems if (p["element_id"], p["file"]) == ("visit", "neighbour.bpmn")]
        assert "form 'no_such_form' does not exist in forms/ (or is broken)" in at_visit
        assert "no shape in the diagram for this element" in at_visit
        assert any(p["element_id"] == "accept" and "deadline" in p["message"] for p in saved.problems)
        assert all(p["line"] for p in saved.problems if p["element_id"] in ("visit", "accept"))
        with pytest.raises(VersionError, match="error"):
            publish_draft(session, registry, draft.id, WANG, clock.now(), "新增回访")


def test_compare_lists_an_added_task_and_a_changed_deadline(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        files = renamed(draft.files, '<spiffworkflow:property name="deadline" value="30 日" />',
                        '<spiffworkflow:property name="deadline" value="20 日" />')
        files = renamed(files, '<bpmn:userTask id="assess"', NEW_TASK + '    <bpmn:userTask id="assess"')
        save_draft(session, registry, draft.id, files, draft.revision, WANG, clock.now())
        result = compare(session, registry, draft.id)
        assert [(e.element_id, e.type, e.name) for e in result.added] == [("visit", "userTask", "上门回访")]
        assert result.removed == []
        assert [(e.element_id, e.changes) for e in result.changed] == [
            ("mediate", {"property deadline": ("30 日", "20 日")})]


def test_publishing_a_draft_serves_new_cases_while_a_running_case_keeps_its_version(sessions, clock, registry):
    runtime = CaseRuntime(registry, clock)
    staff = staff_at(JIUYUAN)
    running = CaseScenario(sessions, runtime, staff, clock)
    running.do("accept")
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        with pytest.raises(VersionError, match="does not change v1"):
            publish_draft(session, registry, draft.id, WANG, clock.now(), "原样发布")
        save_draft(session, registry, draft.id, renamed(draft.files, 'name="分析研判"', 'name="风险研判"'),
                   draft.revision, WANG, clock.now(), "研判环节更名")
        with pytest.raises(Forbidden, match="designer"):
            publish_draft(session, registry, draft.id, DONGHE_DESIGNER, clock.now(), "区里不能改基础版本")
        published = publish_draft(session, registry, draft.id, WANG, clock.now(), "研判环节更名")
        session.commit()
        version = session.get(ProcessVersion, published.published_version_id)
        assert (published.state, version.number, version.source, version.published_by) == (
            "published", 2, "designer", "wang")
        assert in_force(session, "neighbour", JIUYUAN).id == version.id
    fresh = CaseScenario(sessions, runtime, staff, clock)
    fresh.do("accept")
    assert [t.name for t in running.ready_tasks()] == ["分析研判"]
    assert [t.name for t in fresh.ready_tasks()] == ["风险研判"]
    assert running.case().spec_hash != fresh.case().spec_hash == version.spec_hash


def test_a_county_with_four_eyes_needs_a_second_designer_to_approve(sessions, clock, registry):
    four_eyes = {DONGHE: True}
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", DONGHE, DONGHE_DESIGNER, clock.now())
        assert '"20 日"' in draft.files["neighbour.bpmn"]  # 东河区's limits are written into its files
        save_draft(session, registry, draft.id, renamed(draft.files, 'name="调处"', 'name="调解"'), draft.revision,
                   DONGHE_DESIGNER, clock.now())
        submitted = publish_draft(session, registry, draft.id, DONGHE_DESIGNER, clock.now(), "调处更名为调解", four_eyes)
        assert submitted.state == "awaiting_approval" and submitted.published_version_id is None
        with pytest.raises(Forbidden, match="second designer"):
            approve_draft(session, registry, draft.id, DONGHE_DESIGNER, clock.now())
        approved = approve_draft(session, registry, draft.id, DONGHE_REVIEWER, clock.now())
        session.commit()
        version = session.get(ProcessVersion, approved.published_version_id)
        assert (approved.state, approved.approved_by, version.jurisdiction_code, version.published_by) == (
            "published", "qian", DONGHE, "zhao")
        assert "qian" in version.reason
        assert in_force(session, "neighbour", DONGHE).id == version.id
        assert in_force(session, "neighbour", JIUYUAN).jurisdiction_code != DONGHE


def test_an_old_version_is_restored_as_a_new_draft(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        first = draft.base_version_id
        save_draft(session, registry, draft.id, renamed(draft.files, 'name="分析研判"', 'name="风险研判"'),
                   draft.revision, WANG, clock.now())
        publish_draft(session, registry, draft.id, WANG, clock.now(), "研判环节更名")
        session.commit()
        assert [v.number for v in history(session, "neighbour", "")] == [2, 1]
        restored = restore_as_draft(session, registry, first, LI, clock.now())
        assert 'name="分析研判"' in restored.files["neighbour.bpmn"] and restored.note == "restored from v1"
        result = compare(session, registry, restored.id)
        assert [(e.element_id, e.changes) for e in result.changed] == [("assess", {"name": ("风险研判", "分析研判")})]
        republished = publish_draft(session, registry, restored.id, LI, clock.now(), "恢复原研判环节")
        session.commit()
        assert session.get(ProcessVersion, republished.published_version_id).number == 3


def test_a_plain_bpmn_io_file_uploads_and_its_problems_are_reported(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        uploaded = upload(session, registry, draft.id, "neighbour.bpmn", BPMN_IO_FILE.encode(), draft.revision,
                          WANG, clock.now())
        assert uploaded.problems == []
        problems = uploaded.draft.problems
        assert problems, "a user task without form, role and deadline is reported"
        assert any(p["element_id"] == "Activity_1" for p in problems)
        assert all(p["file"] == "neighbour.bpmn" for p in problems)
        assert download(session, draft.id, "neighbour.bpmn") == BPMN_IO_FILE

        broken = upload(session, registry, draft.id, "neighbour.bpmn", b"<bpmn:definitions>\n<oops", uploaded.draft.revision,
                        WANG, clock.now())
        assert broken.problems[0].line is not None and "XML syntax error" in broken.problems[0].message
        assert any("XML syntax error" in p["message"] for p in broken.draft.problems)


def test_compare_sees_timer_and_condition_changes():
    before = {"a.bpmn": BPMN_IO_FILE}
    after = {"a.bpmn": BPMN_IO_FILE.replace('<bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_1" targetRef="Event_1" />',
                                            '<bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_1" targetRef="Event_1">'
                                            '<bpmn:conditionExpression>ok</bpmn:conditionExpression></bpmn:sequenceFlow>')}
    result = compare_files(before, after)
    assert [(e.element_id, e.changes) for e in result.changed] == [("Flow_2", {"condition": (None, "ok")})]
