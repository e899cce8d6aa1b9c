"""The shared processes of `processes/library/`: 督办, 回访, 司法确认 and 联席会议, driven through the real
runtime (SQLite and PostgreSQL) as a category calls them, plus the raw SpiffWorkflow behaviour the
联席会议 relies on."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.actors import Actor
from engine.bundle import bundle_from_specs
from engine.errors import Forbidden
from engine.forms import FormLibrary
from engine.lint import NS
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.scripting import script_engine
from engine.serialization import WorkflowCodec
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario, mediate

LIBRARY = ROOT / "processes" / "library"
INTAKE_STEPS = ("accept", "assess", "dispatch")
DEPARTMENTS = ["司法所", "派出所", "住建局"]
DIRECTOR = Actor.of("director", frozenset({"director"}), "150207", "九原区综治中心主任")
MANAGER = Actor.of("manager", frozenset({"manager"}), "150200", "包头市委政法委")  # the city covers 九原区
LIAISON = Actor.of("liaison", frozenset({"liaison"}), "150207", "部门联络员")


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock)


def overdue_mediation(scenario: CaseScenario) -> None:
    scenario.do_all(*INTAKE_STEPS)
    scenario.clock.set(scenario.task("mediate").due_at + timedelta(minutes=1))
    scenario.sweep()
    assert scenario.ready() == ["mediate", "supervise"]


# -- the library as a whole ----------------------------------------------------------------------

def test_element_ids_are_unique_across_each_category_and_the_library_files_it_calls(registry):
    # Fengqiao keys task properties, timers and documents by element id across a category's processes.
    for category in registry.categories.values():
        owner: dict[str, str] = {}
        for path in (p for p in category.files if p.suffix == ".bpmn"):
            for process in etree.parse(str(path)).xpath("//bpmn:process", namespaces=NS):
                for element in process.iter():
                    element_id = element.get("id") if isinstance(element.tag, str) else None
                    if element_id:
                        assert element_id not in owner, f"{element_id} is in {owner.get(element_id)} and {path.name}"
                        owner[element_id] = path.name
        if category.code == "neighbour":  # the library's user tasks and timers really are in the check
            assert {"supervise", "leader_instruction", "follow_up", "second_supervision",
                    "judicial_confirmation", "judicial_warning"} <= set(owner)


# -- 督办: 提请领导包案 ------------------------------------------------------------------------------

def test_a_supervisor_refers_an_overdue_case_to_a_leader_whose_instruction_is_recorded(scenario):
    overdue_mediation(scenario)
    scenario.do("supervise", {"supervision_decision": "refer_leader", "supervision_note": "久调未结，提请领导包案"})
    assert scenario.ready() == ["leader_instruction", "mediate"]
    instruction = scenario.task("leader_instruction")
    assert (instruction.role, instruction.deadline, instruction.name) == ("manager", "2 工作日", "领导批示")
    with pytest.raises(Forbidden):
        scenario.do("leader_instruction", {"leader_instruction": "同意"}, actor=DIRECTOR)
    scenario.do("leader_instruction", {"leader_instruction": "由乡镇分管领导包案，一周内化解"}, actor=MANAGER)
    # Referring to a leader is not an escalation: the village mediator keeps the case.
    assert scenario.ready() == ["mediate"]
    assert scenario.case().handling_level == "village"
    assert scenario.events("task_cancelled") == []
    last = scenario.events("task_completed")[-1]
    assert (last.element_id, last.actor, last.data) == (
        "leader_instruction", "manager", {"leader_instruction": "由乡镇分管领导包案，一周内化解"})
    scenario.do("mediate", mediate("success"))
    assert scenario.ready() == ["agreement"]


def test_continuing_supervision_does_not_involve_a_leader(scenario):
    overdue_mediation(scenario)
    scenario.do("supervise", {"supervision_decision": "continue", "supervision_note": "请加快调处"})
    assert scenario.ready() == ["mediate"]
    assert "leader_instruction" not in scenario.passed()


# -- 回访: 不满意 → 二次督办 → 重新办理, once --------------------------------------------------------

def test_a_dissatisfied_party_gets_one_second_supervision_and_the_case_is_handled_again(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result")
    follow_up = scenario.task("follow_up")
    assert (follow_up.role, follow_up.deadline, follow_up.form) == ("clerk", "5 工作日", "follow_up")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "对方未按协议维修"})
    assert scenario.ready() == ["second_supervision"]
    second = scenario.task("second_supervision")
    assert (second.role, second.deadline, second.form) == ("director", "1 工作日", "second_supervision")
    scenario.do("second_supervision", {"supervision_instructions": "三日内重新调处"}, actor=DIRECTOR)
    assert scenario.ready() == ["mediate"]
    data = scenario.case().data
    assert (data["rehandle"], data["second_supervision_count"], data["mediation_round"]) == (True, 1, 1)
    # The round counter started again: the rehandled case has its three rounds of mediation.
    scenario.do("mediate", mediate("continue"))
    scenario.do("mediate", mediate("continue"))
    assert scenario.ready() == ["mediate"]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result")
    scenario.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "仍不满意"})
    # Bounded: no second 二次督办; the case goes on to 归档.
    assert scenario.ready() == ["archive"]
    data = scenario.case().data
    assert (data["rehandle"], data["second_supervision_count"]) == (False, 1)
    scenario.do("archive")
    assert scenario.case().status == "concluded"
    completed = [e.element_id for e in scenario.events("task_completed")]
    assert completed.count("second_supervision") == 1
    assert completed.count("follow_up") == 2


def test_a_satisfied_party_goes_straight_to_archiving(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result", "follow_up")
    assert scenario.ready() == ["archive"]
    assert scenario.case().data["rehandle"] is False
    assert "second_supervision" not in scenario.passed()


# -- 司法确认: 临期 reminder at 80% of 30 日 ---------------------------------------------------------

def test_the_judicial_confirmation_reminder_fires_at_80_percent_of_its_30_days(scenario):
    scenario.do_all(*INTAKE_STEPS, ("mediate", mediate("success")))
    scenario.do("agreement", {"agreement_terms": "赔偿维修费", "apply_judicial_confirmation": True})
    judicial = scenario.task("judicial_confirmation")
    assert (judicial.role, judicial.deadline, judicial.form) == ("mediator", "30 日", "judicial_confirmation")
    share = (judicial.warn_at - judicial.created_at) / (judicial.due_at - judicial.created_at)
    assert share == pytest.approx(0.8, abs=1e-6)
    [reminder] = [t for t in scenario.timers() if t.element_id == "judicial_warning"]
    assert (reminder.kind, reminder.due_at) == ("warning", judicial.warn_at)

    scenario.clock.set(judicial.warn_at - timedelta(seconds=1))
    assert scenario.sweep().fired == []
    scenario.clock.advance(seconds=2)
    fired = scenario.sweep().fired
    assert [(f.element_id, f.kind) for f in fired] == [("judicial_warning", "warning")]
    assert scenario.task("judicial_confirmation").warned_at == scenario.clock.now()
    assert scenario.ready() == ["judicial_confirmation"]  # a reminder, not a withdrawal
    assert not scenario.case().is_overdue

    scenario.do("judicial_confirmation", {"confirmation_result": "confirmed", "court": "九原区人民法院"})
    assert scenario.ready() == ["notify_result"]
    assert scenario.timers() == []
    assert scenario.case().data["confirmation_result"] == "confirmed"


# -- 联席会议: one opinion per department, in parallel ------------------------------------------------

def test_joint_meeting_instances_are_parallel_survive_saving_and_report_in_meeting_order():
    """Raw SpiffWorkflow: the multi-instance works as the runtime and the projections assume."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(LIBRARY / "joint_meeting.bpmn")])
    spec, subprocess_specs = parser.get_spec("joint_meeting"), parser.get_subprocess_specs("joint_meeting")
    bundle = bundle_from_specs("joint-meeting", "joint_meeting", spec, subprocess_specs)
    codec = WorkflowCodec()

    def reload(workflow):
        workflow = codec.load_state(codec.dump_state(workflow), bundle)
        workflow.script_engine = script_engine({})
        return workflow

    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine({}))
    # A category's case data already holds a `department` (承办单位); the instances must not clash with it.
    workflow.task_tree.data.update({"meeting_departments": list(DEPARTMENTS), "department": "村人民调解委员会"})
    workflow.do_engine_steps()
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert [t.task_spec.bpmn_id for t in ready] == ["department_opinion"] * 3
    assert sorted(t.data["meeting_department"] for t in ready) == sorted(DEPARTMENTS)
    assert len({t.id for t in ready}) == 3
    assert bundle.tasks["department_opinion"].role == "liaison"

    for department in ["住建局", "司法所", "派出所"]:  # not the meeting order
        workflow = reload(workflow)  # saved and loaded between every answer
        [task] = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                  if t.data.get("meeting_department") == department]
        task.set_data(opinion=f"{department}意见", agrees=department != "派出所")
        task.run()
        workflow.do_engine_steps()

    workflow = reload(workflow)
    [decision] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert decision.task_spec.bpmn_id == "binding_opinion"
    assert decision.data["department_opinions"] == [
        {"department": "司法所", "opinion": "司法所意见", "agrees": True},
        {"department": "派出所", "opinion": "派出所意见", "agrees": False},
        {"department": "住建局", "opinion": "住建局意见", "agrees": True},
    ]
    assert decision.data["department"] == "村人民调解委员会"
    assert "opinion" not in decision.data and "meeting_department" not in decision.data


@pytest.fixture
def meeting_runtime(tmp_path, clock) -> CaseRuntime:
    """A runtime over tests/fixtures/joint_meeting_category and the real library."""
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "tests" / "fixtures" / "joint_meeting_category", processes / "joint_meeting_test")
    (processes / "library").symlink_to(LIBRARY, target_is_directory=True)
    registry = ProcessRegistry(processes, FormLibrary(ROOT / "forms"))
    assert not registry.report.errors, "\n".join(map(str, registry.report.errors))
    assert "joint_meeting_test" in registry.categories
    return CaseRuntime(registry, clock)


def test_a_joint_meeting_asks_every_department_at_once_then_the_director_decides(sessions, meeting_runtime,
                                                                                  staff, clock):
    meeting = CaseScenario(sessions, meeting_runtime, staff, clock, category="joint_meeting_test")
    opinions = meeting.ready_tasks()
    assert [t.element_id for t in opinions] == ["department_opinion"] * 3
    assert {(t.role, t.deadline, t.form) for t in opinions} == {("liaison", "3 工作日", "joint_meeting_opinion")}
    assert len({t.due_at for t in opinions}) == 1
    # Each department's task says whose it is, in the inbox and as the current node.
    assert sorted(t.name for t in opinions) == sorted(f"部门意见（{d}）" for d in DEPARTMENTS)
    assert meeting.case().current_nodes == sorted(f"部门意见（{d}）" for d in DEPARTMENTS)
    task_of = {t.data["meeting_department"]: str(t.id)
               for t in meeting.workflow().get_tasks(state=TaskState.READY, manual=True)}
    assert sorted(task_of) == sorted(DEPARTMENTS)
    with sessions() as session, pytest.raises(Forbidden):
        meeting_runtime.complete_task(session, task_of["司法所"], {"opinion": "同意"}, DIRECTOR)

    answers = {
        "住建局": {"opinion": "住建局：同意由住建局牵头维修", "agrees": True},
        "司法所": {"opinion": "司法所：建议先行调解", "agrees": True},
        "派出所": {"opinion": "派出所：无治安案件，不发表意见"},  # 是否同意 left open
    }
    for answered, department in enumerate(["住建局", "司法所", "派出所"], start=1):
        assert meeting.ready() == ["department_opinion"] * (4 - answered)
        with sessions() as session:
            meeting_runtime.complete_task(session, task_of[department], answers[department], LIAISON)
    assert meeting.ready() == ["binding_opinion"]
    decision = meeting.task("binding_opinion")
    assert (decision.role, decision.deadline) == ("director", "2 工作日")

    meeting.do("binding_opinion", {"binding_opinion": "由住建局牵头，三日内完成维修", "lead_department": "住建局"},
               actor=DIRECTOR)
    case = meeting.case()
    assert case.status == "concluded"
    assert case.data["department_opinions"] == [
        {"department": "司法所", "opinion": "司法所：建议先行调解", "agrees": True},
        {"department": "派出所", "opinion": "派出所：无治安案件，不发表意见", "agrees": None},
        {"department": "住建局", "opinion": "住建局：同意由住建局牵头维修", "agrees": True},
    ]
    assert (case.data["binding_opinion"], case.data["lead_department"]) == ("由住建局牵头，三日内完成维修", "住建局")
    completed = [(e.element_id, e.actor) for e in meeting.events("task_completed")]
    assert completed == [("department_opinion", "liaison")] * 3 + [("binding_opinion", "director")]
