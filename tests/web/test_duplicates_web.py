"""登记纠纷 with 「可能重复」: the window clerk sees earlier cases the submission may repeat and decides."""
from __future__ import annotations

import re

import pytest

from engine.models import Case, CaseEvent, CaseLink
from tests.web.conftest import APPLICANT_ID_NUMBER, APPLICANT_PHONE, NEIGHBOUR_INTAKE

# The same applicant comes back a week later about the same leak, with a new ID card typed in.
SECOND = {**NEIGHBOUR_INTAKE, "title": "楼上漏水仍未修复", "summary": "上次协商后仍未修复，天花板已脱落。",
          "applicant_id_number": "150207196505125678", "respondent_name": "陈某", "amount": "5000"}
CHOICE_BUTTONS = ("不是重复，继续登记", "登记并关联为重复投诉", "并入已有案件")


def form(jurisdiction="150207", **changes) -> dict:
    return {"_category": "neighbour", "_jurisdiction": jurisdiction, **SECOND, **changes}


def panel(html: str) -> str:
    """The 「可能重复」 panel of the registration page (the form around it shows what the clerk typed)."""
    match = re.search(r'<section class="duplicates".*?</section>', html, re.S)
    assert match, "no 可能重复 panel on the page"
    return match.group()


@pytest.fixture
def first(login, register, clock):
    """The first complaint, registered a week ago by 九原区's window."""
    case_id = register(login("clerk"))
    clock.advance(days=7)
    return case_id


@pytest.fixture
def count(db_read):
    return lambda model=Case, **where: db_read(lambda s: s.query(model).filter_by(**where).count())


def case_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/cases/(\d+)$", response.headers["Location"]).group(1))


def test_a_second_dispute_from_the_same_phone_shows_the_first_case_before_anything_is_stored(
        login, first, stored_case, count):
    response = login("clerk").post("/cases/new", data=form())

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    shown = panel(html)
    assert "可能重复" in shown and stored_case(first).code in shown and "同一申请人电话" in shown
    assert "楼上漏水纠纷" in shown and "邻里纠纷" in shown and "办理中" in shown and "2026-03-02" in shown
    assert all(button in html for button in CHOICE_BUTTONS)
    assert 'value="楼上漏水仍未修复"' in html and "天花板已脱落" in html  # everything typed is kept
    assert count() == 1


def test_pressing_enter_in_a_field_decides_nothing(login, first, count):
    clerk = login("clerk")
    html = clerk.post("/cases/new", data=form()).get_data(as_text=True)
    assert re.search(r'<button type="submit" name="_duplicate_decision" value="" hidden', html)  # the default button

    response = clerk.post("/cases/new", data=form(_duplicate_decision="", _duplicate_earlier=str(first)))

    assert response.status_code == 200 and "可能重复" in response.get_data(as_text=True)
    assert count() == 1


def test_the_panel_masks_the_earlier_parties_numbers(login, first):
    shown = panel(login("clerk").post("/cases/new", data=form()).get_data(as_text=True))

    assert APPLICANT_PHONE not in shown and APPLICANT_ID_NUMBER not in shown
    assert "138****8000" in shown and "150207********1234" in shown
    assert "刘桂兰" in shown and "陈建国" in shown


def test_not_a_duplicate_registers_a_new_case_and_records_the_check(login, first, db_read, stored_case):
    case_id = case_id_of(login("clerk").post("/cases/new", data=form(_duplicate_decision="new")))

    assert case_id != first and not stored_case(case_id).is_repeat
    check = db_read(lambda s: s.query(CaseEvent).filter_by(case_id=case_id, kind="duplicate_check").one())
    assert check.data["decision"] == "new" and check.data["candidate_ids"] == [first]
    assert check.data["candidates"][0]["reasons"] == ["同一申请人电话"]
    page = login("clerk").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "登记时重复件核查：可能重复 1 件，经核对不是重复。" in page


def test_registering_as_a_repeat_complaint_links_it_to_the_chosen_earlier_case(login, first, db_read, stored_case):
    clerk = login("clerk")
    case_id = case_id_of(clerk.post("/cases/new", data=form(_duplicate_decision="repeat",
                                                             _duplicate_earlier=str(first))))

    assert stored_case(case_id).is_repeat and not stored_case(first).is_repeat
    link = db_read(lambda s: s.query(CaseLink).filter_by(case_id=case_id).one())
    assert (link.earlier_case_id, link.kind, link.created_by) == (first, "repeat", "clerk")
    check = db_read(lambda s: s.query(CaseEvent).filter_by(case_id=case_id, kind="duplicate_check").one())
    assert check.data["decision"] == "repeat" and check.data["earlier_case_id"] == first
    later_page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "关联案件" in later_page and "本案为以下案件的重复投诉" in later_page
    assert stored_case(first).code in later_page
    earlier_page = clerk.get(f"/cases/{first}").get_data(as_text=True)
    assert "本案被重复投诉 1 次" in earlier_page and stored_case(case_id).code in earlier_page
    assert f"关联为重复投诉：{stored_case(case_id).code} 为本案的重复投诉" in earlier_page


def test_merging_creates_no_case_and_files_everything_typed_under_the_earlier_case(login, first, db_read, count):
    clerk = login("clerk")
    response = clerk.post("/cases/new", data=form("150207001", _duplicate_decision="merge",
                                                   _duplicate_earlier=str(first)))

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{first}")
    assert count() == 1
    event = db_read(lambda s: s.query(CaseEvent).filter_by(case_id=first, kind="submission_merged").one())
    assert event.data == {**SECOND, "people_count": 2, "amount": 5000}
    assert event.summary == "合并来件：楼上漏水仍未修复（纠纷发生地 150207001）"
    page = clerk.get(f"/cases/{first}").get_data(as_text=True)
    assert "未新建案件：来件已并入案件" in page
    assert "并入本案的来件 1 件" in page and "天花板已脱落" in page  # the submitted data, in the timeline
    assert APPLICANT_PHONE not in page and SECOND["applicant_id_number"] not in page
    assert "150207********5678" in page


def test_an_earlier_case_id_of_another_county_is_refused_and_nothing_is_stored(login, register, first, db_read,
                                                                                 count, event_count):
    foreign = register(login("other"), jurisdiction="150203")
    foreign_events = event_count(foreign)
    clerk = login("clerk")

    for decision in ("repeat", "merge"):
        response = clerk.post("/cases/new", data=form(_duplicate_decision=decision, _duplicate_earlier=str(foreign)))
        html = response.get_data(as_text=True)
        assert response.status_code == 422, decision
        assert "不在可能重复的案件之中" in html
        assert db_read(lambda s: s.get(Case, foreign).code) not in html

    assert count() == 2  # the first complaint and 昆都仑区's own
    assert count(CaseLink) == 0
    assert event_count(foreign) == foreign_events


def test_an_earlier_case_that_was_not_a_candidate_is_refused(login, register, first, count):
    clerk = login("clerk")
    unrelated = register(clerk, applicant_phone="13700001111", applicant_id_number="150207197001010011",
                         applicant_name="周玉梅", respondent_name="吴某")

    response = clerk.post("/cases/new", data=form(_duplicate_decision="merge", _duplicate_earlier=str(unrelated)))

    assert response.status_code == 422
    assert "不在可能重复的案件之中" in response.get_data(as_text=True)
    assert count() == 2


def test_the_list_filters_repeat_complaints_and_counts_them(login, first, stored_case):
    clerk = login("clerk")
    repeat = case_id_of(clerk.post("/cases/new", data=form(_duplicate_decision="repeat",
                                                            _duplicate_earlier=str(first))))
    other = case_id_of(clerk.post("/cases/new", data=form(_duplicate_decision="new", title="另一起纠纷")))

    listing = clerk.get("/cases").get_data(as_text=True)
    assert "共 3 件，其中重复投诉 1 件" in listing
    assert listing.count('<span class="badge repeat">重复</span>') == 1
    only = clerk.get("/cases?repeat=1").get_data(as_text=True)
    assert stored_case(repeat).code in only
    assert stored_case(first).code not in only and stored_case(other).code not in only
    assert "共 0 件，其中重复投诉 0 件" in login("other").get("/cases").get_data(as_text=True)


def test_a_case_registered_without_the_check_is_linked_afterwards_from_its_page(login, first, stored_case):
    clerk = login("clerk")
    later = case_id_of(clerk.post("/cases/new", data=form(_duplicate_decision="new")))
    page = clerk.get(f"/cases/{later}").get_data(as_text=True)
    assert "可能重复的已有案件" in page and stored_case(first).code in page
    assert APPLICANT_PHONE not in page

    response = clerk.post(f"/cases/{later}/link", data={"earlier_code": stored_case(first).code, "note": "同一漏水"},
                          follow_redirects=True)

    assert "已关联为重复投诉" in response.get_data(as_text=True)
    assert stored_case(later).is_repeat


def test_only_staff_who_register_there_may_link_and_never_to_another_countys_case(login, register, first,
                                                                                  stored_case, count):
    later = register(login("clerk"), title="第二次投诉")
    analyst = login("analyst")
    assert "关联为重复投诉</button>" not in analyst.get(f"/cases/{later}").get_data(as_text=True)
    assert analyst.post(f"/cases/{later}/link", data={"earlier_code": stored_case(first).code}).status_code == 403

    foreign = register(login("other"), jurisdiction="150203")
    response = login("clerk").post(f"/cases/{later}/link", data={"earlier_code": stored_case(foreign).code})

    assert response.status_code == 404
    assert not stored_case(later).is_repeat and count(CaseLink) == 0


def test_the_decision_needs_the_pages_csrf_token(csrf_app, password):
    client = csrf_app.test_client()
    token = lambda html: re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # noqa: E731
    client.post("/login", data={"username": "clerk", "password": password,
                                "csrf_token": token(client.get("/login").get_data(as_text=True))})
    page = client.get("/cases/new").get_data(as_text=True)
    assert client.post("/cases/new", data={**form(), "csrf_token": token(page)}).status_code == 302

    shown = client.post("/cases/new", data={**form(), "csrf_token": token(page)})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "可能重复" in html

    assert client.post("/cases/new", data=form(_duplicate_decision="new")).status_code == 400
    assert client.post("/cases/new", data={**form(_duplicate_decision="new"), "csrf_token": token(html)}) \
        .status_code == 302


def test_a_county_may_look_back_a_shorter_window(app, login, first, count):
    app.config["DUPLICATE_WINDOW_DAYS"] = {"": 90, "150207": 5}  # 九原区 looks back 5 days only

    response = login("clerk").post("/cases/new", data=form())

    assert response.status_code == 302  # the first complaint, a week old, is no candidate any more
    assert count() == 2
