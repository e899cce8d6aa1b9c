"""Moving a running case to a newer version: only explicitly, after a preview, never under what already ran."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.actors import Actor
from engine.errors import Forbidden, MigrationRefused, NotFound
from engine.migration import migrate_case, preview_migration
from engine.models import CaseEvent
from engine.runtime import CaseRuntime
from engine.versions import in_force, publish
from tests.engine.scenario import CaseScenario, mediate
from tests.engine.variant_trees import copy_processes, edit, load, staff_at

JIUYUAN = "150207"
BPMN = ("neighbour", "neighbour.bpmn")


@pytest.fixture
def world(sessions, clock, tmp_path):
    """A neighbour case at 调处 (mediation) on v1, and an editable processes/ to make v2 from."""
    processes = copy_processes(tmp_path)
    staff = staff_at(JIUYUAN)
    case = CaseScenario(sessions, CaseRuntime(load(processes), clock), staff, clock)
    case.do_all("accept", "assess", "dispatch")
    assert case.ready() == ["mediate"]
    return processes, case, staff


def publish_v2(sessions, clock, processes, *edits) -> tuple[CaseRuntime, int]:
    """Edit the base BPMN, restart (a fresh registry) and publish v2; returns the new runtime and v2's id."""
    for old, new in edits:
        edit(processes.joinpath(*BPMN), old, new)
    runtime = CaseRuntime(load(processes), clock)
    with sessions() as session:
        version = publish(session, runtime.registry, "neighbour", "", "王设计", "调整邻里纠纷流程", now=clock.now())
        session.commit()
        assert version.number == 2
        return runtime, version.id


SHORTER_MEDIATION = ('<spiffworkflow:property name="deadline" value="30 日" />',
                     '<spiffworkflow:property name="deadline" value="20 日" />')
RENAMED_AGREEMENT = ('name="调解协议"', 'name="签订调解协议"')
RENAMED_ACCEPT = ('name="受理审查"', 'name="受理登记审查"')


def test_the_preview_lists_what_changed_and_what_already_ran(sessions, clock, world):
    processes, case, _staff = world
    runtime, v2 = publish_v2(sessions, clock, processes, SHORTER_MEDIATION, RENAMED_AGREEMENT, RENAMED_ACCEPT)
    with sessions() as session:
        preview = preview_migration(session, runtime, case.case_id, v2)
    changed = {c.element_id: c for c in preview.changed}
    assert set(changed) == {"mediate", "agreement", "accept"}
    assert changed["mediate"].attributes == ("extensions",) and changed["mediate"].states == ("READY",)
    assert "bpmn_name" in changed["agreement"].attributes and not changed["agreement"].blocking
    assert changed["accept"].blocking and changed["accept"].states == ("COMPLETED",)
    assert preview.added == [] and preview.removed == []
    assert [c.element_id for c in preview.blocking] == ["accept"]
    assert not preview.allowed
    assert preview.reasons() == ["受理审查（accept）已执行，但在新版本中被修改"]
    assert preview.summary() == "新增 0 个、删除 0 个、修改 3 个元素"


def test_a_case_is_not_moved_when_a_changed_element_already_ran(sessions, clock, world):
    processes, case, staff = world
    runtime, v2 = publish_v2(sessions, clock, processes, RENAMED_ACCEPT)
    before = case.case()
    with sessions() as session:
        events = session.scalar(select(func.count()).select_from(CaseEvent))
        with pytest.raises(MigrationRefused, match="受理审查（accept）已执行"):
            migrate_case(session, runtime, case.case_id, v2, staff)
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == events
    after = case.case()
    assert (after.spec_hash, after.process_version_id, after.version) == (
        before.spec_hash, before.process_version_id, before.version)


def test_a_moved_case_keeps_its_timers_due_times_and_runs_on_with_the_new_definition(sessions, clock, world):
    processes, case, staff = world
    timers_before = {t.task_id: (t.element_id, t.due_at) for t in case.timers()}
    task_before = case.task("mediate")
    clock.advance(days=5)  # a reset timer would start counting again from now
    runtime, v2 = publish_v2(sessions, clock, processes, SHORTER_MEDIATION, RENAMED_AGREEMENT)
    with sessions() as session:
        preview = preview_migration(session, runtime, case.case_id, v2)
        assert preview.allowed, preview.reasons()
        migrate_case(session, runtime, case.case_id, v2, staff)

    moved = case.case()
    assert moved.process_version_id == v2
    with sessions() as session:
        assert moved.spec_hash == in_force(session, "neighbour", JIUYUAN).spec_hash
    assert {t.task_id: (t.element_id, t.due_at) for t in case.timers()} == timers_before
    task_after = case.task("mediate")
    assert (task_after.id, task_after.due_at, task_after.warn_at) == (task_before.id, task_before.due_at,
                                                                       task_before.warn_at)
    [event] = case.events("case_migrated")
    assert event.summary == "迁移到新版本 v2：新增 0 个、删除 0 个、修改 2 个元素"
    assert event.actor == staff.username and {c["element_id"] for c in event.data["changed"]} == {"mediate", "agreement"}

    # The warning fires when it always would have, and the case goes on with v2's names.
    case.runtime = runtime
    warning = next(due for element_id, due in timers_before.values() if element_id == "mediate_warning")
    clock.set(warning)
    assert case.sweep().fired == []
    clock.advance(seconds=1)
    assert [f.kind for f in case.sweep().fired] == ["warning"]
    case.do("mediate", mediate("success"))
    assert [t.name for t in case.ready_tasks()] == ["签订调解协议"]


def test_a_case_moves_only_to_the_newer_version_in_force_for_it(sessions, clock, world):
    processes, case, staff = world
    with sessions() as session:
        v1 = case.case().process_version_id
        preview = preview_migration(session, case.runtime, case.case_id, v1)
        assert preview.reasons() == ["v1 不比本案正在使用的版本新", "本案已在使用该版本的定义"]
        with pytest.raises(MigrationRefused):
            migrate_case(session, case.runtime, case.case_id, v1, staff)
    runtime, v2 = publish_v2(sessions, clock, processes, SHORTER_MEDIATION)
    edit(processes.joinpath(*BPMN), *RENAMED_AGREEMENT)
    with sessions() as session:
        v3 = publish(session, load(processes), "neighbour", "", "王设计", "再调整", now=clock.now())
        session.commit()
        assert "v2 不是本案辖区现行的版本（现行：v3）" in preview_migration(session, runtime, case.case_id, v2).reasons()
        assert preview_migration(session, runtime, case.case_id, v3.id).allowed


def test_only_a_designer_or_director_of_the_case_may_move_it(sessions, clock, world):
    processes, case, _staff = world
    runtime, v2 = publish_v2(sessions, clock, processes, SHORTER_MEDIATION)
    with sessions() as session:
        with pytest.raises(Forbidden):
            migrate_case(session, runtime, case.case_id, v2, Actor.of("m", {"mediator"}, JIUYUAN))
        with pytest.raises(NotFound):
            migrate_case(session, runtime, case.case_id, v2, Actor.of("d", {"director"}, "150203"))
        migrate_case(session, runtime, case.case_id, v2, Actor.of("d", {"director"}, JIUYUAN))
    assert case.case().process_version_id == v2
