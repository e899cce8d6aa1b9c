"""Published versions: immutable, who/when/why, new cases on the latest, running cases on theirs."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import NoVersion, NotFound, VersionError
from engine.models import ProcessSpec, ProcessVersion
from engine.runtime import CaseRuntime
from engine.versions import (SYNC_REASON, history, in_force, publish, rollback, sync_from_files,
                             versions_in_force)
from fengqiao.cli import main
from tests.engine.scenario import CaseScenario
from tests.engine.variant_trees import copy_processes, edit, load, staff_at

DONGHE, DONGHE_VILLAGE, JIUYUAN = "150202", "150202001001", "150207"


def count_versions(session, **where) -> int:
    query = select(func.count()).select_from(ProcessVersion)
    for column, value in where.items():
        query = query.where(getattr(ProcessVersion, column) == value)
    return session.scalar(query)


@pytest.fixture
def tree(tmp_path):
    """An editable copy of processes/ (variants included) and a way to reload it, as a restart would."""
    processes = copy_processes(tmp_path)
    return processes, lambda: load(processes)


def test_publishing_records_who_when_why_and_the_content_hash(sessions, clock, tree):
    processes, reload = tree
    registry = reload()
    with sessions() as session:
        first = publish(session, registry, "neighbour", "", "王设计", "首次发布邻里纠纷流程", now=clock.now())
        session.commit()
        clock.advance(days=3)
        edit(processes / "neighbour" / "neighbour.bpmn", 'name="分析研判"', 'name="风险研判"')
        registry = reload()
        second = publish(session, registry, "neighbour", "", "李设计", "研判环节更名", now=clock.now())
        session.commit()
        assert [(v.number, v.published_by, v.reason, v.source) for v in (first, second)] == [
            (1, "王设计", "首次发布邻里纠纷流程", "files"), (2, "李设计", "研判环节更名", "files")]
        assert second.published_at - first.published_at == timedelta(days=3)
        assert first.spec_hash != second.spec_hash == registry.category("neighbour").spec_hash
        assert session.get(ProcessSpec, second.spec_hash) is not None
        assert first.category_name == "邻里纠纷" and second.settings["intake_form"] == "intake"


def test_publishing_identical_content_again_returns_the_same_version(sessions, clock, registry):
    with sessions() as session:
        first = publish(session, registry, "neighbour", "", "王设计", "首次发布", now=clock.now())
        again = publish(session, registry, "neighbour", "", "李设计", "再次发布", now=clock.now())
        session.commit()
        assert again.id == first.id and again.reason == "首次发布"
        assert count_versions(session, category_code="neighbour") == 1


def test_publishing_needs_a_reason_and_a_variant_of_ones_own(sessions, clock, registry):
    with sessions() as session:
        with pytest.raises(VersionError, match="needs a reason"):
            publish(session, registry, "neighbour", "", "王设计", "  ", now=clock.now())
        with pytest.raises(VersionError, match="150207 has no variant of neighbour of its own.*基础版本"):
            publish(session, registry, "neighbour", JIUYUAN, "王设计", "九原区定制", now=clock.now())
        # 东河区's village inherits 东河区's variant; it has none of its own either.
        with pytest.raises(VersionError, match="150202 东河区"):
            publish(session, registry, "neighbour", DONGHE_VILLAGE, "王设计", "村级定制", now=clock.now())
        county = publish(session, registry, "neighbour", DONGHE, "东河区设计", "调处期限缩短为20日", now=clock.now())
        assert (county.jurisdiction_code, county.number) == (DONGHE, 1)


def test_new_cases_take_the_latest_version_and_running_cases_keep_theirs(sessions, clock, tree):
    processes, reload = tree
    runtime = CaseRuntime(reload(), clock)
    staff = staff_at(JIUYUAN)
    running = CaseScenario(sessions, runtime, staff, clock)  # publishes v1 on the fly: never synced
    running.do("accept")
    edit(processes / "neighbour" / "neighbour.bpmn", 'name="分析研判"', 'name="风险研判"')
    runtime = CaseRuntime(reload(), clock)
    with sessions() as session:
        v2 = publish(session, runtime.registry, "neighbour", "", "李设计", "研判环节更名", now=clock.now())
        session.commit()
    running.runtime = runtime
    fresh = CaseScenario(sessions, runtime, staff, clock)
    fresh.do("accept")
    assert [t.name for t in running.ready_tasks()] == ["分析研判"]
    assert [t.name for t in fresh.ready_tasks()] == ["风险研判"]
    with sessions() as session:
        v1 = session.get(ProcessVersion, running.case().process_version_id)
        assert (v1.number, v1.published_by, v1.reason) == (1, "system", SYNC_REASON)
        assert fresh.case().process_version_id == v2.id and fresh.case().spec_hash == v2.spec_hash


def test_a_rollback_puts_the_previous_version_back_in_force_and_a_restart_does_not_undo_it(sessions, clock, tree):
    processes, reload = tree
    with sessions() as session:
        sync_from_files(session, reload(), clock.now())
        v1 = in_force(session, "neighbour", JIUYUAN)
        edit(processes / "neighbour" / "neighbour.bpmn", 'name="分析研判"', 'name="风险研判"')
        clock.advance(hours=1)
        published = sync_from_files(session, reload(), clock.now())
        session.commit()
        v2 = in_force(session, "neighbour", JIUYUAN)
        # The base changed, so every variant whose neighbour definition is built on the base BPMN
        # (东河区's limits, 白泥井镇's routing table …) changed as well; one with its own BPMN did not.
        republished = {(v.jurisdiction_code, v.number) for v in published}
        assert {("", 2), (DONGHE, 2)} <= republished and all(number == 2 for _, number in republished)
        own_bpmn = {code for code, variant in reload().variants.variants.items()
                    if (variant.folder / "neighbour" / "neighbour.bpmn").exists()}
        assert own_bpmn and not own_bpmn & {code for code, _ in republished}
        assert v2.number == 2 and v2.reason == SYNC_REASON

        withdrawn = rollback(session, v2.id, "王管理", "新流程研判环节有误", now=clock.now())
        session.commit()
        assert (withdrawn.withdrawn_by, withdrawn.withdrawn_reason) == ("王管理", "新流程研判环节有误")
        assert in_force(session, "neighbour", JIUYUAN).id == v1.id
        assert sync_from_files(session, reload(), clock.now()) == []  # a restart keeps the rollback
        assert in_force(session, "neighbour", JIUYUAN).id == v1.id
        assert [(v.number, v.withdrawn_at is not None) for v in history(session, "neighbour", "")] == [
            (2, True), (1, False)]

    runtime = CaseRuntime(reload(), clock)
    case = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock)
    case.do("accept")
    assert case.case().process_version_id == v1.id
    assert [t.name for t in case.ready_tasks()] == ["分析研判"]


def test_rollback_refuses_what_would_leave_nothing_or_skip_a_version(sessions, clock, tree):
    processes, reload = tree
    with sessions() as session:
        v1 = publish(session, reload(), "neighbour", "", "王设计", "首次发布", now=clock.now())
        with pytest.raises(VersionError, match="only base version of neighbour"):
            rollback(session, v1.id, "王管理", "误发布")
        edit(processes / "neighbour" / "neighbour.bpmn", 'name="分析研判"', 'name="风险研判"')
        v2 = publish(session, reload(), "neighbour", "", "王设计", "更名", now=clock.now())
        with pytest.raises(VersionError, match="needs a reason"):
            rollback(session, v2.id, "王管理", "")
        with pytest.raises(VersionError, match="not the newest version of its level: roll back v2 first"):
            rollback(session, v1.id, "王管理", "回退")
        rollback(session, v2.id, "王管理", "回退")
        with pytest.raises(VersionError, match="already rolled back"):
            rollback(session, v2.id, "王管理", "再回退")
        with pytest.raises(NotFound):
            rollback(session, 999, "王管理", "回退")


def test_a_county_version_is_in_force_below_it_until_it_is_rolled_back(sessions, clock, registry):
    with sessions() as session:
        sync_from_files(session, registry, clock.now())
        session.commit()
        county = in_force(session, "neighbour", DONGHE_VILLAGE)
        assert county.jurisdiction_code == DONGHE
        assert in_force(session, "neighbour", JIUYUAN).jurisdiction_code == ""
        assert in_force(session, "labour", DONGHE_VILLAGE).jurisdiction_code == ""  # no colour field: base
        assert count_versions(session, jurisdiction_code="150200") == 0  # the city's colours are the base's
        rollback(session, county.id, "东河区设计", "暂停使用本区流程")
        assert in_force(session, "neighbour", DONGHE_VILLAGE).jurisdiction_code == ""
        with pytest.raises(NoVersion):
            in_force(session, "no_such_category", DONGHE)


def test_every_category_shows_where_its_version_comes_from(sessions, clock, registry):
    with sessions() as session:
        sync_from_files(session, registry, clock.now())
        rows = {row.category_code: row for row in versions_in_force(session, registry, DONGHE_VILLAGE)}
        assert set(rows) == set(registry.categories)
        assert rows["neighbour"].source_label == "150202 东河区"
        assert rows["labour"].source_label == "基础版本"
        assert not any(row.files_differ for row in rows.values())


def test_the_cli_lists_versions_in_force_and_publishes_and_rolls_back(tmp_path, monkeypatch, capsys, registry):
    from fengqiao import versions_cli

    monkeypatch.setenv("FENGQIAO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setattr(versions_cli, "load_registry", lambda: registry)  # processes/ as loaded once per test run
    assert main(["versions", DONGHE]) == 0
    assert "邻里纠纷（neighbour）  未发布" in capsys.readouterr().out

    assert main(["sync-versions"]) == 0
    assert "published" in capsys.readouterr().out
    assert main(["versions", DONGHE]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "150202 东河区：各类别现行流程版本"
    neighbour = next(line for line in out if line.startswith("邻里纠纷（neighbour）"))
    labour = next(line for line in out if line.startswith("劳动争议（labour）"))
    assert "  v1  来源：150202 东河区  " in neighbour and "system" in neighbour and SYNC_REASON in neighbour
    assert "  v1  来源：基础版本  " in labour

    assert main(["publish", "neighbour", "--jurisdiction", JIUYUAN, "--reason", "试试"]) == 1
    assert "150207 has no variant of neighbour" in capsys.readouterr().err
    assert main(["publish", "neighbour", "--jurisdiction", DONGHE, "--reason", "重新发布", "--by", "王设计"]) == 0
    assert "邻里纠纷 v1（150202 东河区）" in capsys.readouterr().out  # unchanged content: still v1
    version_id = _version_id(tmp_path, "neighbour", DONGHE)
    assert main(["rollback", str(version_id), "--reason", "暂停本区流程", "--by", "王管理"]) == 0
    assert "in force there now: v1（基础版本）" in capsys.readouterr().out
    assert main(["versions", DONGHE]) == 0
    assert "邻里纠纷（neighbour）  v1  来源：基础版本" in capsys.readouterr().out


def _version_id(tmp_path, category: str, jurisdiction: str) -> int:
    from engine.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    with make_session_factory(engine)() as session:
        version_id = session.scalar(select(ProcessVersion.id).where(
            ProcessVersion.category_code == category, ProcessVersion.jurisdiction_code == jurisdiction))
    engine.dispose()
    return version_id
