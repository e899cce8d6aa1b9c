"""A category created in the designer: a county designer starts it from an existing flow, publishes
it, and clerks of that county (not of another) register cases on it — also in a process that did
not publish it, which finds it in the database."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.actors import Actor
from engine.category_creation import create_category
from engine.designed_categories import CategoryNameError
from engine.drafts import compare, publish_draft, save_draft
from engine.errors import Forbidden, NoVersion, UnknownCategory
from engine.forms import FormLibrary
from engine.models import ProcessVersion
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.variant_lookup import ancestors
from engine.versions import sync_from_files
from tests.engine.scenario import CaseScenario
from tests.engine.variant_trees import staff_at

ROOT = Path(__file__).resolve().parents[2]
JIUYUAN, DONGHE = "150207", "150202"
ZHOU = Actor.of("zhou", {"designer"}, JIUYUAN, "周设计")


@pytest.fixture
def own_registry() -> ProcessRegistry:
    """A registry of this test alone: offering a designed category changes it."""
    return ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))


def new_category(session, registry, clock, code="property_service", name="物业服务纠纷", template="neighbour"):
    return create_category(session, registry, code, name, JIUYUAN, template, ZHOU, clock.now())


def test_a_new_category_starts_from_a_template_with_its_own_process_and_lints_clean(sessions, clock, own_registry):
    with sessions() as session:
        draft = new_category(session, own_registry, clock)
        session.commit()
        assert draft.category_code == "property_service" and draft.problems == []
        bpmn = draft.files["neighbour.bpmn"]
        assert 'id="property_service_dispute"' in bpmn and 'name="物业服务纠纷"' in bpmn
        assert 'bpmnElement="property_service_dispute"' in bpmn and 'id="neighbour_dispute"' not in bpmn
        assert compare(session, own_registry, draft.id).added  # nothing published yet: all of it is new
        assert "property_service" not in own_registry.categories  # a draft registers no cases


def test_codes_and_names_already_used_are_refused(sessions, clock, own_registry):
    with sessions() as session:
        for code, name, message in [("neighbour", "新类别", "已被使用"), ("Bad-Code", "新类别", "无效"),
                                    ("fresh_one", "邻里纠纷", "已被类别 neighbour 使用"), ("fresh_two", "", "名称")]:
            with pytest.raises(CategoryNameError, match=message):
                new_category(session, own_registry, clock, code, name)
        new_category(session, own_registry, clock)
        with pytest.raises(CategoryNameError, match="已被使用"):
            new_category(session, own_registry, clock, "property_service", "另一个名称")
        with pytest.raises(Forbidden, match="designer"):
            create_category(session, own_registry, "other_place", "别处类别", DONGHE, "neighbour", ZHOU, clock.now())


def test_published_it_registers_cases_in_its_county_only(sessions, clock, own_registry):
    with sessions() as session:
        draft = new_category(session, own_registry, clock)
        files = {name: text.replace('name="分析研判"', 'name="物业研判"') for name, text in draft.files.items()}
        save_draft(session, own_registry, draft.id, files, draft.revision, ZHOU, clock.now())
        published = publish_draft(session, own_registry, draft.id, ZHOU, clock.now(), "新增物业服务纠纷类别")
        session.commit()
        version = session.get(ProcessVersion, published.published_version_id)
        assert (version.category_code, version.jurisdiction_code, version.number) == ("property_service", JIUYUAN, 1)
        category = own_registry.category("property_service")
        assert category.designed and category.offered_at(ancestors(session, JIUYUAN))
        assert not category.offered_at(ancestors(session, DONGHE))
        synced = sync_from_files(session, own_registry, clock.now())  # publishes the categories of processes/
        assert synced and "property_service" not in {v.category_code for v in synced}  # it has no files
    runtime = CaseRuntime(own_registry, clock)
    case = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock, category="property_service")
    case.do("accept")
    assert [t.name for t in case.ready_tasks()] == ["物业研判"]
    with sessions() as session, pytest.raises(NoVersion):
        runtime.start_case(session, "property_service", {"title": "x"}, DONGHE, staff_at(DONGHE))


def test_another_process_finds_the_published_category_in_the_database(sessions, clock, own_registry):
    with sessions() as session:
        draft = new_category(session, own_registry, clock)
        publish_draft(session, own_registry, draft.id, ZHOU, clock.now(), "新增物业服务纠纷类别")
        session.commit()
    elsewhere = ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))  # started before the publish
    assert "property_service" not in elsewhere.categories
    case = CaseScenario(sessions, CaseRuntime(elsewhere, clock), staff_at(JIUYUAN), clock, category="property_service")
    assert case.case().category_code == "property_service"
    assert "property_service" in elsewhere.categories
    elsewhere.reload()  # processes/ re-read: the designed category stays
    assert elsewhere.category("property_service").designed
    with pytest.raises(UnknownCategory):
        elsewhere.category("no_such_category")
