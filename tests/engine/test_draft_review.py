"""Four eyes on process changes (四眼原则): a county says in its variant.toml that a second 流程设计员
approves what a designer publishes; the reviewer approves, or returns the draft with a note its
author sees; a draft can be given up. Running cases are never touched by any of it."""
from __future__ import annotations

import pytest

from engine.actors import Actor
from engine.draft_review import awaiting_review, may_approve
from engine.drafts import (approve_draft, discard_draft, needs_approval, open_draft, publish_draft, return_draft,
                           save_draft)
from engine.errors import Forbidden, VersionError
from engine.models import ProcessVersion
from engine.versions import in_force
from tests.engine.variant_trees import copy_processes, edit, load

CITY, DONGHE, JIUYUAN = "150200", "150202", "150207"
ZHAO = Actor.of("zhao", {"designer"}, DONGHE, "赵设计")  # 东河区's designers
QIAN = Actor.of("qian", {"designer"}, DONGHE, "钱设计")
ZHOU = Actor.of("zhou", {"designer"}, JIUYUAN, "周设计")  # 九原区's
CITY_DESIGNER = Actor.of("sun", {"designer"}, CITY, "孙设计")
DONGHE_TOML = "designer_four_eyes = true"


def renamed(files: dict[str, str], old: str, new: str) -> dict[str, str]:
    assert old in files["neighbour.bpmn"], old
    return {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace(old, new, 1)}


def submitted(session, registry, clock, author: Actor, jurisdiction: str, reason: str, four_eyes=None):
    """A draft at `jurisdiction` that renames 调处 to 调解, published (or submitted) by `author`."""
    draft = open_draft(session, registry, "neighbour", jurisdiction, author, clock.now())
    save_draft(session, registry, draft.id, renamed(draft.files, 'name="调处"', 'name="调解"'), draft.revision,
               author, clock.now(), "调处更名")
    return publish_draft(session, registry, draft.id, author, clock.now(), reason, four_eyes)


def test_donghe_asks_for_four_eyes_in_its_variant_toml_while_jiuyuan_publishes_directly(sessions, clock, registry):
    with sessions() as session:
        donghe = submitted(session, registry, clock, ZHAO, DONGHE, "调处更名为调解")
        assert (donghe.state, donghe.published_version_id, donghe.submitted_by) == ("awaiting_approval", None, "zhao")
        assert in_force(session, "neighbour", DONGHE).source == "files"  # nothing new is in force yet
        jiuyuan = submitted(session, registry, clock, ZHOU, JIUYUAN, "调处更名为调解")
        assert jiuyuan.state == "published"
        assert session.get(ProcessVersion, jiuyuan.published_version_id).jurisdiction_code == JIUYUAN


def test_the_nearest_level_that_says_so_decides_and_the_deployment_overrides_it(sessions, clock, tmp_path):
    processes = copy_processes(tmp_path)
    edit(processes / "variants" / CITY / "variant.toml", 'name = "包头市"', 'name = "包头市"\ndesigner_four_eyes = true')
    edit(processes / "variants" / DONGHE / "variant.toml", DONGHE_TOML, "designer_four_eyes = false")
    registry = load(processes)
    with sessions() as session:
        # 九原区 says nothing: the city's rule reaches it; 东河区 switched it off for itself.
        assert needs_approval(session, None, JIUYUAN, registry) is True
        assert needs_approval(session, None, "150207001", registry) is True
        assert needs_approval(session, None, DONGHE, registry) is False
        assert needs_approval(session, None, "", registry) is False  # the base has no variant.toml
        # The deployment's mapping wins wherever it names a level of the chain.
        assert needs_approval(session, {CITY: False}, JIUYUAN, registry) is False
        assert needs_approval(session, {DONGHE: True}, DONGHE, registry) is True
        assert needs_approval(session, {"150203": False}, JIUYUAN, registry) is True  # names no level of the chain

        assert submitted(session, registry, clock, ZHAO, DONGHE, "东河直接发布").state == "published"
        assert submitted(session, registry, clock, ZHOU, JIUYUAN, "九原待审核").state == "awaiting_approval"


def test_a_designer_four_eyes_that_is_not_true_or_false_is_reported_where_it_is(tmp_path):
    processes = copy_processes(tmp_path)
    toml = processes / "variants" / DONGHE / "variant.toml"
    edit(toml, DONGHE_TOML, 'designer_four_eyes = "yes"')
    registry = load(processes)
    line = toml.read_text(encoding="utf-8").splitlines().index('designer_four_eyes = "yes"') + 1
    assert [str(p) for p in registry.variants.problems if "designer_four_eyes" in p.message] == [
        f"{toml}:{line} -: designer_four_eyes = 'yes': write true (a second 流程设计员 approves before a draft is "
        "published) or false"]
    assert DONGHE not in registry.variants  # a half-read variant.toml leaves the whole variant out


def test_the_submitter_cannot_approve_their_own_draft_a_second_designer_does(sessions, clock, registry):
    with sessions() as session:
        draft = submitted(session, registry, clock, ZHAO, DONGHE, "调处更名为调解")
        assert awaiting_review(session, ZHAO) == [] and not may_approve(ZHAO, draft)
        assert [d.id for d in awaiting_review(session, QIAN)] == [draft.id]
        assert awaiting_review(session, ZHOU) == []  # 九原区's designer does not design for 东河区
        assert may_approve(CITY_DESIGNER, draft)  # the city's designers design for every district below it
        with pytest.raises(Forbidden, match="zhao submitted this draft; a second designer"):
            approve_draft(session, registry, draft.id, ZHAO, clock.now())
        with pytest.raises(Forbidden, match="designer"):
            approve_draft(session, registry, draft.id, ZHOU, clock.now())
        clock.advance(hours=2)
        approved = approve_draft(session, registry, draft.id, QIAN, clock.now())
        session.commit()
        version = session.get(ProcessVersion, approved.published_version_id)
        assert (approved.state, approved.approved_by, version.published_by, version.source) == (
            "published", "qian", "zhao", "designer")
        assert version.reason == "调处更名为调解（qian 审核）"
        assert in_force(session, "neighbour", DONGHE).id == version.id
        assert awaiting_review(session, QIAN) == []


def test_a_reviewer_returns_a_draft_with_a_note_its_author_fixes_and_resubmits(sessions, clock, registry):
    with sessions() as session:
        draft = submitted(session, registry, clock, ZHAO, DONGHE, "调处更名为调解")
        with pytest.raises(VersionError, match="needs a note"):
            return_draft(session, draft.id, QIAN, clock.now(), "  ")
        returned = return_draft(session, draft.id, QIAN, clock.now(), "名称请与《人民调解法》一致：人民调解")
        session.commit()
        assert (returned.state, returned.returned_by, returned.return_note) == (
            "draft", "qian", "名称请与《人民调解法》一致：人民调解")
        assert returned.returned_at == clock.now()
        with pytest.raises(VersionError, match="awaiting_approval"):
            approve_draft(session, registry, draft.id, QIAN, clock.now())
        fixed = save_draft(session, registry, draft.id, renamed(returned.files, 'name="调解"', 'name="人民调解"'),
                           returned.revision, ZHAO, clock.now(), "按审核意见修改")
        again = publish_draft(session, registry, fixed.id, ZHAO, clock.now(), "调处更名为人民调解")
        assert again.state == "awaiting_approval" and again.return_note  # the last note stays readable
        # The submitter may withdraw it without a note, to go on editing.
        assert return_draft(session, draft.id, ZHAO, clock.now()).state == "draft"
        assert again.returned_by == "qian"


def test_a_discarded_draft_is_kept_but_can_no_longer_be_edited_or_published(sessions, clock, registry):
    with sessions() as session:
        draft = submitted(session, registry, clock, ZHAO, DONGHE, "调处更名为调解")
        in_force_before = in_force(session, "neighbour", DONGHE).id
        with pytest.raises(Forbidden):
            discard_draft(session, draft.id, ZHOU)
        discarded = discard_draft(session, draft.id, QIAN)
        session.commit()
        assert discarded.state == "discarded" and 'name="调解"' in discarded.files["neighbour.bpmn"]
        with pytest.raises(VersionError, match="discarded"):
            save_draft(session, registry, draft.id, discarded.files, discarded.revision, ZHAO, clock.now())
        with pytest.raises(VersionError, match="discarded"):
            approve_draft(session, registry, draft.id, QIAN, clock.now())
        assert in_force(session, "neighbour", DONGHE).id == in_force_before
        assert awaiting_review(session, QIAN) == []
