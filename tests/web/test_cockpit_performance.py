"""考核 and 筛选视图 over HTTP: 白音席勒街道 takes a neighbour dispute, dispatches it to 九原区住建局 and reports
it up to the county, where 张调解 settles it. 九原区's 政法委 manager opens 考核 for March 2026, follows
the department's numbers to their case lists, sorts the tables, and saves the page as a view shared
with the other managers of the county; who sees it, and who may delete it."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from engine import jurisdictions, people
from engine.models import SavedView
from tests.web.conftest import add_user
from web.extensions import db

JIUYUAN, TOWN = "150207", "150207001"
HOUSING = "九原区住房和城乡建设局"
NUMBER_LINK = re.compile(r'<a class="cockpit-number" href="(/cases\?[^"]+)" data-count="(\d+)">([^<]+)</a>')
DRILL_TOTAL = re.compile(r'<strong id="drill-total">(\d+)</strong>')
PAGE = "/cockpit/performance?scope=150207&period=2026-03"


@pytest.fixture
def settled(app, login, register, act, clock):
    """The case, settled; returns (case id, the department's id)."""
    with app.app_context():
        jurisdictions.save(db.session, JIUYUAN, "九原区", "county", None, "九原区综治中心")
        jurisdictions.save(db.session, TOWN, "白音席勒街道", "township", JIUYUAN, "白音席勒街道综治中心")
        db.session.flush()
        department = people.save_department(db.session, JIUYUAN, "housing", HOUSING, "resident")
        db.session.flush()
        department_id = department.id
        add_user("town", "街道全能", ["clerk", "analyst", "director"], TOWN)
        for username, name in (("zfw", "钱政法"), ("zfw2", "孙政法")):
            add_user(username, name, ["manager"], JIUYUAN)
        db.session.commit()

        case_id = register(act.client("town"), jurisdiction=TOWN)
    act("town", case_id, "accept", {"accepted": "true"})
    act("town", case_id, "assess", {"risk_color": "黄", "complexity": "simple", "assessment": "需住建部门处理"})
    act("town", case_id, "dispatch", {"handling_level": "township", "department": HOUSING})
    response = act.client("town").post(f"/cases/{case_id}/report-up", data={"reason": "需县住建局处理"})
    assert response.status_code == 303, response.get_data(as_text=True)
    act("mediator", case_id, "mediate", {"mediation_outcome": "success", "mediation_record": "双方同意修复。"})
    act("mediator", case_id, "agreement", {"agreement_terms": "楼上住户修复防水。", "agreement_amount": "800",
                                           "apply_judicial_confirmation": "false"})
    for element_id, fields in (("notify_result", {"notice_method": "phone"}),
                               ("follow_up", {"satisfaction": "satisfied"}), ("archive", {"archive_note": "案结事了。"})):
        act("clerk", case_id, element_id, fields)
    return case_id, department_id


def test_each_department_number_opens_a_case_list_of_as_many_cases(login, settled):
    _, department_id = settled
    manager = login("zfw")
    response = manager.get(PAGE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    departments = re.search(r'<table class="table cockpit-performance" id="departments">.*?</table>', page,
                            re.S).group(0)
    row = re.search(rf'<tr id="departments-{department_id}">.*?</tr>', departments, re.S).group(0)
    assert HOUSING in row
    links = [(html_lib.unescape(href), int(count), text) for href, count, text in NUMBER_LINK.findall(row)]
    assert [text for _, _, text in links] == ["1", "1", "100.0%", "100.0%", "0"]  # 受理, 化解, 化解率, 满意度, 二次督办
    for url, count, _ in links:
        assert f"department={department_id}" in url
        listing = manager.get(url)
        assert listing.status_code == 200, url
        assert int(DRILL_TOTAL.search(listing.get_data(as_text=True)).group(1)) == count, url


def test_each_mediator_is_listed_and_every_number_linked_opens_as_many_cases(login, settled):
    manager = login("zfw")
    page = manager.get(PAGE).get_data(as_text=True)
    row = re.search(r'<tr id="mediators-mediator">.*?</tr>', page, re.S).group(0)
    assert "张调解" in row
    assert re.findall(r'<td class="received">(\d+)</td>', row) == ["2"]  # 调处 and the agreement: a task count
    assert re.findall(r'<td class="(?:resolved|second_supervision)">(?:<a [^>]*>)?(\d+)', row) == ["1", "0"]
    # The case list links carry the mediator filter (shown once the case list names that filter).
    for href, count, _ in NUMBER_LINK.findall(row):
        url = html_lib.unescape(href)
        assert "mediator=mediator" in url
        assert int(DRILL_TOTAL.search(manager.get(url).get_data(as_text=True)).group(1)) == int(count), url


def test_tables_sort_by_the_column_asked_for_and_refuse_an_unknown_one(login, settled):
    manager = login("zfw")
    page = manager.get(PAGE + "&sort=-resolution_rate").get_data(as_text=True)
    assert 'aria-sort="descending"' in page
    assert manager.get(PAGE + "&sort=-popularity").status_code == 400


def test_only_managers_and_directors_open_it_and_only_their_scope(login, settled):
    assert login("clerk").get(PAGE).status_code == 403
    assert login("director").get(PAGE).status_code == 200
    assert login("zfw").get("/cockpit/performance?scope=150203").status_code == 403


def test_a_view_shared_with_the_team_is_listed_to_the_other_manager_not_the_director(app, login, settled):
    owner = login("zfw")
    response = owner.post("/cockpit/views", data={"name": "三月考核", "shared_with": "team", "page": "performance",
                                                  "query": "scope=150207&period=2026-03&sort=-received"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/cockpit/performance?scope=150207&period=2026-03&sort=-received"
    with app.app_context():
        view_id = db.session.scalars(select(SavedView.id)).one()
    link = 'href="/cockpit/performance?scope=150207&amp;period=2026-03&amp;sort=-received">三月考核</a>'
    assert link in login("zfw2").get(PAGE).get_data(as_text=True)
    assert "三月考核" not in login("director").get(PAGE).get_data(as_text=True)
    assert "三月考核" not in login("other").get("/cockpit/performance").get_data(as_text=True)  # 昆都仑区

    assert login("zfw2").post(f"/cockpit/views/{view_id}/delete").status_code == 404  # not theirs
    with app.app_context():
        assert db.session.get(SavedView, view_id) is not None
    assert owner.post(f"/cockpit/views/{view_id}/delete", data={"next": PAGE}).status_code == 302
    with app.app_context():
        assert db.session.get(SavedView, view_id) is None


def test_a_view_that_cannot_be_saved_says_why_and_a_clerk_cannot_save(app, login, settled):
    response = login("zfw").post("/cockpit/views", data={"name": "", "shared_with": "team", "page": "performance",
                                                         "query": "period=2026-03"})
    assert response.status_code == 400
    assert "视图名称" in response.get_data(as_text=True)
    response = login("zfw").post("/cockpit/views", data={"name": "外区", "shared_with": "private",
                                                         "page": "cockpit", "query": "scope=150203"})
    assert response.status_code == 400 and "150203" in response.get_data(as_text=True)
    assert login("clerk").post("/cockpit/views", data={"name": "我的", "page": "cases", "query": ""}).status_code == 403
    with app.app_context():
        assert db.session.scalars(select(SavedView)).all() == []


def test_the_save_form_carries_the_csrf_token_and_the_current_filters(login, settled):
    page = login("zfw").get(PAGE).get_data(as_text=True)
    form = re.search(r'<form class="inline-form" method="post" action="/cockpit/views">.*?</form>', page, re.S).group(0)
    assert 'name="csrf_token"' in form
    assert 'name="query" value="scope=150207&amp;period=2026-03"' in form


def test_with_csrf_on_the_director_saves_and_deletes_a_view_with_the_pages_tokens(csrf_app, password):
    """As in production: the forms of the page carry the token; a post without it is refused."""
    client = csrf_app.test_client()
    token = lambda html: re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # noqa: E731
    login_page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "director", "password": password,
                                       "csrf_token": token(login_page)}).status_code == 302
    page = client.get("/cockpit/performance?period=2026-03").get_data(as_text=True)
    form = {"name": "本月考核", "shared_with": "private", "page": "performance", "query": "period=2026-03"}
    assert client.post("/cockpit/views", data=form).status_code == 400  # no token
    response = client.post("/cockpit/views", data={**form, "csrf_token": token(page)}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "已保存筛选视图“本月考核”" in page and "本月考核</a>" in page
    delete = re.search(r'action="(/cockpit/views/\d+/delete)"', page).group(1)
    response = client.post(delete, data={"csrf_token": token(page), "next": "/cockpit/performance"},
                           follow_redirects=True)
    assert "已删除筛选视图" in response.get_data(as_text=True)
    with csrf_app.app_context():
        assert db.session.scalars(select(SavedView)).all() == []
