"""流程版本 pages: who may see them, rolling back with a token, and moving a case after a preview."""
from __future__ import annotations

import re

from engine.models import Case, CaseEvent, ProcessVersion
from engine.versions import publish
from tests.engine.variant_trees import copy_processes, edit, load
from tests.web.conftest import add_user
from tests.web.test_csrf import token_of
from web.extensions import db


def add(app, username, roles, jurisdiction):
    with app.app_context():
        add_user(username, username, roles, jurisdiction)
        db.session.commit()


def test_the_versions_page_is_for_designers_directors_and_administrators(app, login):
    assert login("mediator").get("/versions").status_code == 403
    assert login("clerk").get("/versions").status_code == 403
    html = login("director").get("/versions").get_data(as_text=True)
    row = re.search(r"<td>邻里纠纷</td>(.*?)</tr>", html, re.S).group(1)
    assert "v1" in row and "基础版本" in row and "system" in row and "processes/ 文件更新" in row


def test_a_user_sees_versions_of_their_jurisdiction_only(app, login):
    add(app, "donghe_designer", ["designer"], "150202")
    director = login("director")
    assert director.get("/versions?jurisdiction=150202").status_code == 404
    assert director.get("/versions?jurisdiction=150207001").status_code == 200  # a township below is fine
    html = login("donghe_designer").get("/versions").get_data(as_text=True)
    row = re.search(r"<td>邻里纠纷</td>(.*?)</tr>", html, re.S).group(1)
    assert "150202 东河区" in row


def test_a_designer_rolls_back_their_countys_version_with_the_pages_token(csrf_app, password):
    add(csrf_app, "donghe_designer", ["designer"], "150202")

    def db_read(fn):
        with csrf_app.app_context():
            return fn(db.session)

    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "donghe_designer", "password": password,
                                       "csrf_token": token_of(login_page)}).status_code == 302
    page = client.get("/versions/neighbour").get_data(as_text=True)
    version_id = db_read(lambda s: s.query(ProcessVersion).filter_by(category_code="neighbour",
                                                                     jurisdiction_code="150202").one().id)
    base_id = db_read(lambda s: s.query(ProcessVersion).filter_by(category_code="neighbour",
                                                                  jurisdiction_code="").one().id)
    action = f"/versions/{version_id}/rollback"
    assert f'action="{action}"' in page
    assert f'action="/versions/{base_id}/rollback"' not in page  # the base is the administrators' to roll back

    assert client.post(action, data={"reason": "暂停本区流程"}).status_code == 400  # no token
    assert client.post(f"/versions/{base_id}/rollback",
                       data={"reason": "x", "csrf_token": token_of(page)}).status_code == 403
    response = client.post(action, data={"reason": "暂停本区流程", "csrf_token": token_of(page)},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已回退 邻里纠纷 v1" in html
    withdrawn = db_read(lambda s: s.get(ProcessVersion, version_id))
    assert (withdrawn.withdrawn_by, withdrawn.withdrawn_reason) == ("donghe_designer", "暂停本区流程")
    overview = client.get("/versions").get_data(as_text=True)
    assert "基础版本" in re.search(r"<td>邻里纠纷</td>(.*?)</tr>", overview, re.S).group(1)


def test_the_migration_page_is_for_the_cases_designers_and_directors(app, login, register):
    case_id = register(login("clerk"))
    assert login("mediator").get(f"/cases/{case_id}/migrate").status_code == 403
    assert login("other").get(f"/cases/{case_id}/migrate").status_code == 404  # 昆都仑区: not their case
    director = login("director")
    html = director.get(f"/cases/{case_id}/migrate").get_data(as_text=True)
    assert "本案已在使用该版本的定义" in html and "确认迁移" not in html
    assert f'href="/cases/{case_id}/migrate"' in director.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/migrate"' not in login("clerk").get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'href="/versions"' in html


def test_a_director_moves_a_case_after_previewing_the_differences(app, login, register, ready_task, db_read,
                                                                  tmp_path):
    clerk = login("clerk")
    case_id = register(clerk)
    clerk.post(f"/tasks/{ready_task(case_id, 'accept')}", data={"accepted": "true"})
    # A designer renames 调解协议 in a new base version (published from an edited copy of processes/).
    processes = copy_processes(tmp_path)
    edit(processes / "neighbour" / "neighbour.bpmn", 'name="调解协议"', 'name="签订调解协议"')
    with app.app_context():
        v2 = publish(db.session, load(processes), "neighbour", "", "王设计", "协议环节更名",
                     now=app.config["CLOCK"].now())
        db.session.commit()
        v2_id = v2.id

    director = login("director")
    page = director.get(f"/cases/{case_id}/migrate").get_data(as_text=True)
    assert "v2" in page and "协议环节更名" in page and "新增 0 个、删除 0 个、修改 1 个元素" in page
    assert "调解协议" in page and "名称" in page
    response = director.post(f"/cases/{case_id}/migrate", data={"version_id": v2_id})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{case_id}")
    assert db_read(lambda s: s.get(Case, case_id).process_version_id) == v2_id
    events = db_read(lambda s: [e.summary for e in s.query(CaseEvent).filter_by(case_id=case_id, kind="case_migrated")])
    assert events == ["迁移到新版本 v2：新增 0 个、删除 0 个、修改 1 个元素"]
    again = director.post(f"/cases/{case_id}/migrate", data={"version_id": v2_id}, follow_redirects=True)
    assert "未能迁移" in again.get_data(as_text=True)
