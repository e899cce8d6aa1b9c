"""The case runtime's guarantees: validation, access, exactly-once timers, versions, concurrency."""
from __future__ import annotations

import shutil
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.errors import ConflictError, Forbidden, FormInvalid, NotFound, TaskNotReady
from engine.forms import FormLibrary
from engine.queries import get_case
from engine.models import Case, CaseEvent, HumanTask
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.timers import sweep_due_timers
from engine.versions import sync_at_startup
from tests.conftest import ROOT
from tests.engine.scenario import INTAKE, CaseScenario


@pytest.fixture
def scenario(sessions, runtime, staff, clock):
    return CaseScenario(sessions, runtime, staff, clock)


def count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


# -- forms -------------------------------------------------------------------------------------

def test_invalid_form_data_reports_each_field_and_changes_nothing(scenario, sessions):
    scenario.do("accept")
    before_events = count(sessions, CaseEvent)
    before_version = scenario.case().version
    with pytest.raises(FormInvalid) as caught:
        scenario.do("assess", {"risk_color": "紫", "complexity": "ordinary"})
    fields = {e.field: e.message for e in caught.value.errors}
    assert set(fields) == {"risk_color", "assessment"}
    assert fields["assessment"] == "必填"
    assert count(sessions, CaseEvent) == before_events
    assert scenario.case().version == before_version
    assert scenario.ready() == ["assess"]


def test_invalid_intake_creates_no_case(sessions, runtime, staff):
    bad = dict(INTAKE, applicant_phone="12345", title="")
    with sessions() as session, pytest.raises(FormInvalid) as caught:
        runtime.start_case(session, "neighbour", bad, "150207", staff)
    assert {e.field for e in caught.value.errors} == {"applicant_phone", "title"}
    assert count(sessions, Case) == 0
    assert count(sessions, CaseEvent) == 0


def test_submitted_data_in_the_event_log_is_a_copy(scenario):
    data = {"risk_color": "黄", "complexity": "ordinary", "assessment": "原始意见"}
    scenario.do("accept")
    scenario.do("assess", data)
    data["assessment"] = "事后修改"
    logged = scenario.events("task_completed")[-1]
    assert logged.data["assessment"] == "原始意见"


# -- access ------------------------------------------------------------------------------------

def test_another_jurisdiction_cannot_see_or_act_on_the_case(scenario, sessions, runtime):
    outsider = Actor.of("kdl", frozenset({"clerk"}), "150203")
    task = scenario.task("accept")
    with sessions() as session, pytest.raises(NotFound):
        runtime.complete_task(session, task.id, {"accepted": True}, outsider)
    assert scenario.ready() == ["accept"]


def test_the_city_reads_its_districts_cases_but_works_only_its_own_queue(scenario, sessions, runtime):
    city_clerk = Actor.of("city", frozenset({"clerk"}), "150200")
    case_id = scenario.case_id
    with sessions() as session:
        assert get_case(session, city_clerk, case_id).id == case_id
        with pytest.raises(Forbidden):  # the district's window takes the district's intake
            runtime.complete_task(session, scenario.task("accept").id, {"accepted": True}, city_clerk)
    assert scenario.ready() == ["accept"]
    scenario.do("accept")
    assert scenario.ready() == ["assess"]


def test_a_user_without_the_tasks_role_may_not_complete_it(scenario, sessions, runtime):
    clerk = Actor.of("clerk", frozenset({"clerk"}), "150207")
    scenario.do("accept")
    with sessions() as session, pytest.raises(Forbidden):
        runtime.complete_task(session, scenario.task("assess").id, {"risk_color": "黄", "complexity": "simple",
                                                                     "assessment": "x"}, clerk)


def test_completing_a_finished_task_is_a_conflict(scenario):
    task = scenario.task("accept")
    scenario.do("accept")
    with scenario.sessions() as session, pytest.raises(TaskNotReady):
        scenario.runtime.complete_task(session, task.id, {"accepted": True}, scenario.actor)


# -- timers ------------------------------------------------------------------------------------

def test_a_timer_fires_once_even_when_the_sweep_runs_twice_for_the_same_instant(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    scenario.clock.set(scenario.task("mediate").warn_at + timedelta(minutes=5))
    first, second = scenario.sweep(), scenario.sweep()
    assert [f.kind for f in first.fired] == ["warning"]
    assert second.fired == [] and second.cases_touched == 0
    assert len(scenario.events("timer_fired")) == 1


def test_a_timer_never_fires_early(scenario):
    scenario.do_all("accept", "assess", "dispatch")
    due = scenario.task("mediate").due_at
    scenario.clock.set(due)  # exactly at the limit is not yet past it
    kinds = [f.kind for f in scenario.sweep().fired]
    assert "overdue" not in kinds
    scenario.clock.advance(seconds=1)
    assert [f.kind for f in scenario.sweep().fired] == ["overdue"]


def test_the_sweep_does_not_load_cases_with_nothing_due(sessions, runtime, staff, clock, monkeypatch):
    for _ in range(3):
        CaseScenario(sessions, runtime, staff, clock).do_all("accept", "assess", "dispatch")
    loads = []
    original = runtime.codec.load_state
    monkeypatch.setattr(runtime.codec, "load_state", lambda *a: loads.append(1) or original(*a))
    clock.advance(days=1)
    result = sweep_due_timers(sessions, runtime)
    assert result.cases_touched == 0 and loads == []


def test_one_broken_case_does_not_stop_the_sweep(sessions, runtime, staff, clock, monkeypatch):
    cases = [CaseScenario(sessions, runtime, staff, clock) for _ in range(2)]
    for case in cases:
        case.do_all("accept", "assess", "dispatch")
    clock.advance(days=27)
    original = runtime.fire_due_timers

    def flaky(session, case_id):
        if case_id == cases[0].case_id:
            raise RuntimeError("simulated corrupt state")
        return original(session, case_id)

    monkeypatch.setattr(runtime, "fire_due_timers", flaky)
    result = cases[1].sweep()
    assert list(result.failed) == [cases[0].case_id]
    assert result.cases_touched == 1


# -- definitions and versions ----------------------------------------------------------------------

def test_a_running_case_keeps_its_definition_after_the_bpmn_changes(sessions, staff, clock, tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes)
    forms = FormLibrary(ROOT / "forms")
    old_runtime = CaseRuntime(ProcessRegistry(processes, forms), clock)
    case = CaseScenario(sessions, old_runtime, staff, clock)
    case.do("accept")

    bpmn = processes / "neighbour" / "neighbour.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="分析研判"', 'name="风险研判"'), encoding="utf-8")
    # A new process (fresh registry, empty cache) must restore the old spec from the database.
    new_runtime = CaseRuntime(ProcessRegistry(processes, forms), clock)
    assert new_runtime.registry.category("neighbour").spec_hash != case.case().spec_hash
    with sessions() as session:  # a restart publishes what changed in processes/ as a new version
        sync_at_startup(session, new_runtime.registry, clock.now())
    case.runtime = new_runtime
    case.do("assess")
    assert [t.name for t in case.ready_tasks()] == ["分流转办"]
    completed = [e.summary for e in case.events("task_completed")]
    assert completed == ["办理：受理审查", "办理：分析研判"]
    fresh = CaseScenario(sessions, new_runtime, staff, clock)
    fresh.do("accept")
    assert [t.name for t in fresh.ready_tasks()] == ["风险研判"]


def test_case_codes_count_per_jurisdiction_and_year(sessions, runtime, staff, clock):
    codes = [CaseScenario(sessions, runtime, staff, clock).case().code for _ in range(2)]
    city = Actor.of("city", staff.roles, "150200")
    other = CaseScenario(sessions, runtime, city, clock, jurisdiction="150203").case().code
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI))
    next_year = CaseScenario(sessions, runtime, staff, clock).case().code
    assert codes == ["150207-2026-000001", "150207-2026-000002"]
    assert other == "150203-2026-000001"
    assert next_year == "150207-2027-000001"


# -- the calendar's unknown years -------------------------------------------------------------------

def test_a_deadline_in_an_unknown_year_is_provisional_until_overrides_cover_it(sessions, runtime, staff, clock):
    from engine.calendar_store import set_override

    clock.set(datetime(2026, 12, 21, 9, 0, tzinfo=SHANGHAI))
    case = CaseScenario(sessions, runtime, staff, clock)
    case.do_all("accept", "assess", "dispatch")
    mediation = case.task("mediate")
    # 30日 from Monday 21 Dec 2026 ends Wednesday 20 Jan 2027: 2027 is unknown to chinese_calendar.
    assert mediation.deadline_provisional
    assert mediation.due_at == datetime(2027, 1, 20, 23, 59, 59, tzinfo=SHANGHAI)
    assert any(t.provisional for t in case.timers())

    with sessions() as session:
        for day in range(1, 32):
            set_override(session, datetime(2027, 1, day).date(), datetime(2027, 1, day).weekday() < 5,
                         "2027年1月（测试）", "admin", clock.now())
        set_override(session, datetime(2027, 1, 20).date(), False, "假设的休息日", "admin", clock.now())
        session.commit()
        assert runtime.recompute_provisional_deadlines(session) == 1

    mediation = case.task("mediate")
    assert not mediation.deadline_provisional
    assert mediation.due_at == datetime(2027, 1, 21, 23, 59, 59, tzinfo=SHANGHAI)  # rolled past the rest day
    overdue = [t for t in case.timers() if t.kind == "overdue"][0]
    assert overdue.due_at == mediation.due_at and not overdue.provisional
    case.clock.set(mediation.due_at + timedelta(seconds=1))
    assert "overdue" in [f.kind for f in case.sweep().fired]


# -- concurrency -----------------------------------------------------------------------------------

def test_two_simultaneous_completions_of_one_task_one_wins(sessions, runtime, staff, clock, db_engine):
    case = CaseScenario(sessions, runtime, staff, clock)
    task_id = case.task("accept").id
    version_before = case.case().version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(answer: bool):
        with sessions() as session:
            session.get(HumanTask, task_id)  # both read the task as ready before either writes
            barrier.wait()
            try:
                runtime.complete_task(session, task_id, {"accepted": answer, "reject_reason": "x"}, staff)
                outcomes.append("won")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=complete, args=(answer,)) for answer in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "won"]
    assert len(case.events("task_completed")) == 1
    final = case.case()
    assert final.version > version_before
    assert (final.status == "terminated") == (case.ready() == [])


def test_a_running_case_keeps_validating_against_the_forms_it_started_with(sessions, staff, clock, tmp_path):
    import json

    processes, forms = tmp_path / "processes", tmp_path / "forms"
    shutil.copytree(ROOT / "processes", processes)
    shutil.copytree(ROOT / "forms", forms)
    old_runtime = CaseRuntime(ProcessRegistry(processes, FormLibrary(forms)), clock)
    running = CaseScenario(sessions, old_runtime, staff, clock)
    running.do("accept")

    # A designer makes 研判意见 short and mandatory-format in the new version of the form.
    schema = json.loads((forms / "assess.json").read_text(encoding="utf-8"))
    schema["properties"]["assessment"]["maxLength"] = 5
    (forms / "assess.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    new_runtime = CaseRuntime(ProcessRegistry(processes, FormLibrary(forms)), clock)
    assert new_runtime.registry.category("neighbour").spec_hash != running.case().spec_hash
    with sessions() as session:  # a restart publishes what changed in processes/ as a new version
        sync_at_startup(session, new_runtime.registry, clock.now())

    long_assessment = {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般邻里纠纷，宜就地调解"}
    running.runtime = new_runtime
    running.do("assess", long_assessment)  # the old version's form still applies
    fresh = CaseScenario(sessions, new_runtime, staff, clock)
    fresh.do("accept")
    with pytest.raises(FormInvalid) as caught:
        fresh.do("assess", long_assessment)
    assert [e.field for e in caught.value.errors] == ["assessment"]
