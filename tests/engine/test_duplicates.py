"""重复件 / 重复投诉: a window clerk registering a dispute is shown the earlier cases it probably repeats."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import duplicates
from engine.actors import Actor
from engine.duplicates import find_candidates, link, merge_submission, repeat_counts
from engine.errors import NotFound
from engine.models import Case, CaseEvent, CaseLink, CaseMatchKey

JIUYUAN, KUNDULUN = "150207", "150203"
FIRST = {
    "title": "楼上漏水致楼下天花板受损",
    "summary": "楼上卫生间漏水，楼下天花板发霉，双方就维修费用争执。",
    "channel": "walk_in",
    "address": "九原区沙河镇新河村3号楼2单元",
    "applicant_name": "张伟",
    "applicant_phone": "13904720001",
    "applicant_id_number": "150207198001010012",
    "respondent_name": "李军",
}
# Someone else entirely: shares nothing with FIRST.
STRANGER = {
    "title": "噪音扰民", "summary": "夜间装修噪音。", "channel": "walk_in", "address": "九原区赛罕路88号",
    "applicant_name": "王芳", "applicant_phone": "13500000002", "applicant_id_number": "150207199002020024",
    "respondent_name": "赵强",
}


@pytest.fixture
def register(sessions, runtime, staff):
    """register(intake changes, place=…, actor=…, category=…) → the case id."""

    def _register(changes=None, place=JIUYUAN, actor=staff, category="neighbour", base=FIRST) -> int:
        with sessions() as session:
            return runtime.start_case(session, category, {**base, **(changes or {})}, place, actor).id

    return _register


@pytest.fixture
def candidates(sessions, staff, clock):
    """candidates(intake changes, …) → [(case id, reasons, score)] for a new submission."""

    def _candidates(changes=None, place=JIUYUAN, actor=staff, category="neighbour", base=STRANGER, window=None):
        with sessions() as session:
            found = find_candidates(session, actor, category, {**base, **(changes or {})}, place, clock.now(),
                                    window or timedelta(days=duplicates.DEFAULT_WINDOW_DAYS))
            return [(c.case.id, c.reasons, c.score) for c in found]

    return _candidates


def test_a_second_complaint_from_the_same_phone_finds_the_first_case(register, candidates, clock):
    first = register()
    clock.advance(days=3)

    assert candidates({"applicant_phone": FIRST["applicant_phone"]}) == [(first, ("同一申请人电话",), 40)]
    assert candidates() == []  # a stranger repeats nothing


def test_the_same_id_number_is_found_even_typed_full_width_with_a_small_x(register, candidates, clock):
    first = register({"applicant_id_number": "15020719800101001X"})
    clock.advance(days=1)

    found = candidates({"applicant_id_number": "１５０２０７１９８００１０１００１x"})

    assert found == [(first, ("同一证件号",), 50)]


def test_the_same_address_is_found_whatever_the_spaces_and_punctuation(register, candidates, clock):
    first = register()
    clock.advance(days=1)

    found = candidates({"address": " 九原区 沙河镇，新河村３号楼－2单元。"})

    assert found == [(first, ("同一地址",), 20)]
    assert candidates({"address": "不详"}) == []  # too short to say anything


def test_the_same_applicant_against_the_same_respondent_is_found(register, candidates, clock):
    first = register()
    clock.advance(days=1)

    assert candidates({"applicant_name": "张 伟", "respondent_name": "李军"}) == [(first, ("同一当事人",), 30)]
    assert candidates({"applicant_name": "张伟"}) == []  # the same name against someone else is not enough


def test_candidates_come_best_match_first_then_newest(register, candidates, clock):
    phone_only = register({"applicant_id_number": "150207198001010029", "address": "", "respondent_name": "孙某"})
    clock.advance(days=1)
    everything = register()
    clock.advance(days=1)
    phone_again = register({"applicant_id_number": "150207198001010037", "address": "", "respondent_name": "周某"})
    clock.advance(days=1)

    found = candidates({key: FIRST[key] for key in ("applicant_phone", "applicant_id_number", "address",
                                                     "applicant_name", "respondent_name")})

    assert [case_id for case_id, _, _ in found] == [everything, phone_again, phone_only]
    assert found[0][1:] == (("同一证件号", "同一申请人电话", "同一当事人", "同一地址"), 140)


def test_a_case_older_than_the_window_is_not_found_unless_the_window_is_longer(register, candidates, clock):
    first = register()
    clock.advance(days=91)

    assert candidates({"applicant_phone": FIRST["applicant_phone"]}) == []
    assert [c[0] for c in candidates({"applicant_phone": FIRST["applicant_phone"]}, window=timedelta(days=120))] \
        == [first]


def test_a_case_of_another_category_is_not_found(register, candidates, clock):
    register(category="other")
    clock.advance(days=1)

    assert candidates({"applicant_phone": FIRST["applicant_phone"]}) == []
    assert len(candidates({"applicant_phone": FIRST["applicant_phone"]}, category="other")) == 1


def test_another_countys_case_is_never_found(register, candidates, clock):
    kundulun_clerk = Actor.of("kdl", {"clerk"}, KUNDULUN)
    city = Actor.of("city", {"clerk", "manager"}, "150200")  # reads both counties
    register(place=KUNDULUN, actor=kundulun_clerk)
    clock.advance(days=1)
    same_phone = {"applicant_phone": FIRST["applicant_phone"]}

    assert candidates(same_phone) == []  # 九原区's clerk cannot read it
    assert candidates(same_phone, actor=city) == []  # the city can, but a 九原区 dispute is not a 昆都仑区 one
    assert len(candidates(same_phone, actor=city, place=KUNDULUN)) == 1
    assert len(candidates(same_phone, actor=kundulun_clerk, place=KUNDULUN)) == 1


def test_a_village_case_is_found_for_a_submission_at_the_county_window(register, candidates, clock):
    first = register(place="150207001001")
    clock.advance(days=1)

    assert [c[0] for c in candidates({"applicant_phone": FIRST["applicant_phone"]})] == [first]


def test_only_identifying_digests_are_stored_never_the_numbers(sessions, register):
    case_id = register()
    with sessions() as session:
        keys = session.scalars(select(CaseMatchKey).where(CaseMatchKey.case_id == case_id)).all()
        assert {key.kind for key in keys} == {"phone", "id_number", "address", "parties"}
        assert not any(FIRST["applicant_phone"] in key.digest or "150207198" in key.digest for key in keys)
        duplicates.index_case(session, session.get(Case, case_id))  # idempotent
        session.commit()
        assert session.scalar(select(func.count()).select_from(CaseMatchKey)) == 4


def test_linking_a_repeat_complaint_marks_it_logs_both_cases_and_counts(sessions, register, staff, clock):
    first = register()
    clock.advance(days=5)
    second = register()
    clock.advance(days=5)
    third = register()
    with sessions() as session:
        cases = {case_id: session.get(Case, case_id) for case_id in (first, second, third)}
        link(session, cases[second], cases[first], "repeat", "同一漏水问题再次投诉", staff, clock.now())
        link(session, cases[third], cases[first], "repeat", "", staff, clock.now())
        session.commit()

    with sessions() as session:
        assert [session.get(Case, i).is_repeat for i in (first, second, third)] == [False, True, True]
        assert session.scalars(select(CaseLink.earlier_case_id).where(CaseLink.case_id == second)).all() == [first]
        summaries = {i: [e.summary for e in session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == i, CaseEvent.kind == "linked_as_repeat"))] for i in (first, second)}
        code = {i: cases[i].code for i in cases}
        assert summaries[second] == [f"关联为重复投诉：本案为 {code[first]} 的重复投诉"]
        assert summaries[first] == [f"关联为重复投诉：{code[second]} 为本案的重复投诉",
                                    f"关联为重复投诉：{code[third]} 为本案的重复投诉"]
        assert repeat_counts(session, staff) == duplicates.RepeatCounts(2, {first: 2})
        assert repeat_counts(session, Actor.of("kdl", {"clerk"}, KUNDULUN)) == duplicates.RepeatCounts(0, {})
        links = duplicates.case_links(session, staff, session.get(Case, first))
        assert [c.id for _, c in links.repeated_by] == [second, third] and not links.repeat_of


def test_a_link_that_makes_no_sense_or_reaches_outside_the_jurisdiction_is_refused(sessions, register, staff, clock):
    first = register()
    clock.advance(days=1)
    second = register()
    foreign = register(place=KUNDULUN, actor=Actor.of("kdl", {"clerk"}, KUNDULUN))
    with sessions() as session:
        a, b, elsewhere = (session.get(Case, i) for i in (first, second, foreign))
        with pytest.raises(duplicates.LinkError, match="登记晚于"):
            link(session, a, b, "repeat", "", staff, clock.now())
        with pytest.raises(duplicates.LinkError, match="自身"):
            link(session, a, a, "repeat", "", staff, clock.now())
        with pytest.raises(duplicates.LinkError, match="并入"):
            link(session, b, a, "merged", "", staff, clock.now())
        with pytest.raises(NotFound):
            link(session, b, elsewhere, "repeat", "", staff, clock.now())
        link(session, b, a, "repeat", "", staff, clock.now())
        with pytest.raises(duplicates.LinkError, match="已关联"):
            link(session, b, a, "repeat", "", staff, clock.now())
        session.rollback()


def test_merging_a_submission_creates_no_case_and_keeps_everything_the_clerk_typed(sessions, register, staff, clock):
    first = register()
    clock.advance(days=2)
    submitted = {**FIRST, "summary": "再次来访：漏水仍未修复，天花板已脱落。", "amount": 4200, "people_count": 3}
    with sessions() as session:
        cases_before = session.scalar(select(func.count()).select_from(Case))
        merge_submission(session, session.get(Case, first), submitted, staff, clock.now(),
                         jurisdiction_code="150207001")
        session.commit()

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == cases_before
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == first,
                                                        CaseEvent.kind == "submission_merged")).one()
        assert event.data == submitted
        assert event.summary == f"合并来件：{FIRST['title']}（纠纷发生地 150207001）"
        assert event.actor == staff.username and event.at == clock.now()
        assert not session.get(Case, first).is_repeat
        assert len(duplicates.case_links(session, staff, session.get(Case, first)).merged) == 1


def test_a_case_that_came_in_by_a_channel_finds_only_cases_registered_before_it(sessions, register, staff, clock):
    first = register()
    clock.advance(days=1)
    second = register()
    clock.advance(days=1)
    register()
    with sessions() as session:
        found = duplicates.candidates_for_case(session, staff, session.get(Case, second), timedelta(days=90))
        assert [c.case.id for c in found] == [first]


def test_the_window_is_read_nearest_first_along_the_jurisdiction_chain():
    chain = ["150207001", "150207", "150200", "150000", ""]
    assert duplicates.window_for(None, chain) == timedelta(days=90)
    assert duplicates.window_for(30, chain) == timedelta(days=30)
    assert duplicates.window_for({"": 60, "150207": 180}, chain) == timedelta(days=180)
    assert duplicates.window_for({"": 60, "150203": 180}, chain) == timedelta(days=60)
    with pytest.raises(ValueError, match="number of days"):
        duplicates.window_for({"150207": 0}, chain)
