"""A small driver that reads like the domain: start a case, do its tasks, let time pass."""
from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import queries
from engine.calendar import SHANGHAI
from engine.models import Case, CaseEvent, HumanTask, PendingTimer
from engine.timers import sweep_due_timers

INTAKE = {
    "title": "楼上漏水致楼下天花板受损",
    "summary": "楼上卫生间漏水，楼下天花板发霉，双方就维修费用争执。",
    "channel": "walk_in",
    "people_count": 2,
    "applicant_name": "张伟",
    "applicant_phone": "13904720001",
    "applicant_id_number": "150207198001010012",
    "respondent_name": "李军",
}

ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般邻里纠纷"},
    "dispatch": {"handling_level": "village", "department": "村人民调解委员会"},
    "agreement": {"agreement_terms": "楼上住户承担维修费", "agreement_amount": 1500,
                  "apply_judicial_confirmation": False},
    "notify_result": {"notice_method": "phone"},
    "follow_up": {"satisfaction": "satisfied"},
    "archive": {"archive_note": "归档"},
    "legal_route": {"termination_reason": "一方拒绝调解", "legal_route": "litigation"},
    "second_supervision": {"supervision_instructions": "三日内重新调处"},
}


def end_of_day(year: int, month: int, day: int) -> datetime:
    """23:59:59 in Baotou on that day: where every 日 and 工作日 limit ends."""
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def mediate(outcome: str) -> dict:
    return {"mediation_outcome": outcome, "mediation_record": f"调处记录：{outcome}"}


class CaseScenario:
    """One case driven through the engine's public API with a fake clock."""

    def __init__(self, sessions, runtime, actor, clock, category: str = "neighbour", jurisdiction: str = "150207",
                 intake: dict | None = None, answers: dict | None = None):
        self.sessions, self.runtime, self.actor, self.clock = sessions, runtime, actor, clock
        self.answers = {**ANSWERS, **(answers or {})}
        with sessions() as session:
            self.case_id = runtime.start_case(session, category, dict(intake or INTAKE), jurisdiction, actor).id

    @classmethod
    def of(cls, sessions, runtime, actor, clock, case_id: int, answers: dict | None = None) -> "CaseScenario":
        """A scenario over a case registered some other way (a channel's submission, an import)."""
        scenario = cls.__new__(cls)
        scenario.sessions, scenario.runtime, scenario.actor, scenario.clock = sessions, runtime, actor, clock
        scenario.answers = {**ANSWERS, **(answers or {})}
        scenario.case_id = case_id
        return scenario

    def case(self) -> Case:
        with self.sessions() as session:
            return session.get(Case, self.case_id)

    def ready(self) -> list[str]:
        """Element ids of the ready tasks, sorted."""
        return sorted(t.element_id for t in self.ready_tasks())

    def ready_tasks(self) -> list[HumanTask]:
        with self.sessions() as session:
            return list(session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                                HumanTask.state == "ready")))

    def task(self, element_id: str) -> HumanTask:
        matches = [t for t in self.ready_tasks() if t.element_id == element_id]
        assert matches, f"{element_id} is not ready; ready: {self.ready()}"
        return matches[0]

    def do(self, element_id: str, data: dict | None = None, actor=None) -> Case:
        data = self.answers[element_id] if data is None else data
        with self.sessions() as session:
            return self.runtime.complete_task(session, self.task(element_id).id, data, actor or self.actor)

    def do_all(self, *steps) -> None:
        for step in steps:
            if isinstance(step, tuple):
                self.do(*step)
            else:
                self.do(step)

    def sweep(self):
        return sweep_due_timers(self.sessions, self.runtime)

    def events(self, kind: str | None = None) -> list[CaseEvent]:
        with self.sessions() as session:
            events = queries.case_events(session, session.get(Case, self.case_id))
        return [e for e in events if kind is None or e.kind == kind]

    def timers(self) -> list[PendingTimer]:
        with self.sessions() as session:
            return queries.case_timers(session, session.get(Case, self.case_id))

    def workflow(self) -> BpmnWorkflow:
        """The case's workflow as stored, for what the projections do not show."""
        with self.sessions() as session:
            case = session.get(Case, self.case_id)
            return self.runtime.codec.load_state(case.workflow_state, self.runtime.bundle(session, case))

    def passed(self) -> set[str]:
        """Ids of the elements the case has gone through (throw events, script tasks … as well as user tasks)."""
        workflow = self.workflow()
        return {task.task_spec.bpmn_id for wf in (workflow, *workflow.subprocesses.values())
                for task in wf.tasks.values() if task.state == TaskState.COMPLETED}

    def dispatch_as_routed(self) -> dict:
        """Complete 分流转办 accepting what the routing table proposed; returns the proposal."""
        proposal = self.task("dispatch").form_defaults
        self.do("dispatch", {"handling_level": proposal["handling_level"], "department": proposal["department"]})
        return proposal

    def doc_types(self) -> list[str]:
        """Types of the documents issued so far, in order."""
        return [d.doc_type for d in self.documents()]

    def documents(self) -> list:
        """The documents issued for the case so far, in order."""
        from engine.documents import case_documents

        with self.sessions() as session:
            return case_documents(session, session.get(Case, self.case_id))
