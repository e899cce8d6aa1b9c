"""组织机构 pages: the 九原区 administrator keeps their county's places, departments and people,
and cannot see or touch 昆都仑区's."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import Workbook
from werkzeug.security import check_password_hash

from engine import jurisdictions, people
from engine.models import Department, Jurisdiction, User
from engine.org_workbook import template_xlsx
from web.extensions import db


@pytest.fixture(autouse=True)
def tree(request):
    """包头市 with 九原区 (and its 沙河街道) and 昆都仑区; a court stationed at 九原区's center."""
    app = request.getfixturevalue("csrf_app" if "csrf_app" in request.fixturenames else "app")
    with app.app_context():
        jurisdictions.save(db.session, "150200", "包头市", "city", None, "包头市综治中心")
        jurisdictions.save(db.session, "150207", "九原区", "county", "150200", "九原区综治中心")
        jurisdictions.save(db.session, "150203", "昆都仑区", "county", "150200", "昆都仑区综治中心")
        jurisdictions.save(db.session, "150207001", "沙河街道", "township", "150207", "沙河街道综治中心")
        jurisdictions.save(db.session, "150203001", "昆北街道", "township", "150203", "昆北街道综治中心")
        people.save_department(db.session, "150207", "court", "九原区人民法院", "resident")
        people.save_department(db.session, "150203", "court", "昆都仑区人民法院", "resident")
        people.find_user(db.session, "clerk").phone = "13800138000"
        db.session.commit()


def user(db_read, username):
    return db_read(lambda s: people.find_user(s, username))


def department_id(db_read, code, jurisdiction):
    return db_read(lambda s: people.find_department(s, jurisdiction, code).id)


# -- access ---------------------------------------------------------------------------------------

def test_only_administrators_reach_the_pages(login):
    clerk = login("clerk")
    for url in ("/admin/org/jurisdictions", "/admin/org/users", "/admin/org/users/clerk", "/admin/org/import"):
        assert clerk.get(url).status_code == 403, url
    assert clerk.post("/admin/org/users/clerk/unlock").status_code == 403


def test_another_countys_places_and_people_do_not_exist_for_the_administrator(login, db_read):
    admin = login("admin")
    kdl_court = department_id(db_read, "court", "150203")
    for url in ("/admin/org/jurisdictions/150203/edit", "/admin/org/jurisdictions/new?parent=150203",
                "/admin/org/jurisdictions/150203/departments", f"/admin/org/departments/{kdl_court}",
                "/admin/org/users/other"):
        assert admin.get(url).status_code == 404, url
    for url, data in (("/admin/org/users/other/unlock", {}), ("/admin/org/users/other/active", {"active": "0"}),
                      ("/admin/org/users/other/password", {"password": "x" * 10, "password2": "x" * 10}),
                      ("/admin/org/jurisdictions/150203/edit", {"name": "改名", "level": "county"})):
        assert admin.post(url, data=data).status_code == 404, url
    assert user(db_read, "other").active
    assert db_read(lambda s: s.get(Jurisdiction, "150203").name) == "昆都仑区"

    tree = admin.get("/admin/org/jurisdictions").get_data(as_text=True)
    assert "沙河街道" in tree and "昆都仑区" not in tree and "包头市" not in tree
    users = admin.get("/admin/org/users").get_data(as_text=True)
    assert "王受理" in users and "昆都仑区全能" not in users


def test_every_form_carries_a_csrf_token(csrf_app, password):
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "admin", "password": password, "csrf_token": token}).status_code == 302
    for url in ("/admin/org/jurisdictions/new?parent=150207", "/admin/org/jurisdictions/150207/edit",
                "/admin/org/jurisdictions/150207/departments", "/admin/org/users/new", "/admin/org/users/clerk",
                "/admin/org/import"):
        html = client.get(url).get_data(as_text=True)
        forms = re.findall(r'<form method="post".*?</form>', html, re.S)
        assert forms, url
        assert all('name="csrf_token"' in form for form in forms), url
    assert client.post("/admin/org/users/clerk/unlock").status_code == 400  # no token


# -- the tree and departments ---------------------------------------------------------------------

def test_the_administrator_adds_a_township_to_their_county(login, db_read):
    admin = login("admin")
    assert "添加下级辖区" in admin.get("/admin/org/jurisdictions/new?parent=150207").get_data(as_text=True)

    response = admin.post("/admin/org/jurisdictions/new", data={
        "parent": "150207", "code": "150207002", "name": "麻池镇", "level": "township", "center_name": "麻池镇综治中心"})

    assert response.status_code == 302
    row = db_read(lambda s: s.get(Jurisdiction, "150207002"))
    assert (row.name, row.level, row.parent_code, row.center_name) == ("麻池镇", "township", "150207", "麻池镇综治中心")


def test_a_child_code_outside_the_parent_is_refused_and_the_form_keeps_what_was_typed(login, db_read):
    response = login("admin").post("/admin/org/jurisdictions/new", data={
        "parent": "150207", "code": "150207", "name": "麻池镇", "level": "township", "center_name": "麻池镇综治中心"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "该代码已存在" in html
    assert 'value="麻池镇"' in html and 'value="麻池镇综治中心"' in html

    response = login("admin").post("/admin/org/jurisdictions/new", data={
        "parent": "150207001", "code": "150207002001", "name": "某村", "level": "village", "center_name": ""})
    assert response.status_code == 422 and "应以上级代码开头" in response.get_data(as_text=True)
    assert db_read(lambda s: s.get(Jurisdiction, "150207002001")) is None


def test_the_administrator_edits_a_place(login, db_read):
    response = login("admin").post("/admin/org/jurisdictions/150207001/edit", data={
        "name": "沙河街道办事处", "level": "township", "center_name": "沙河街道综治中心"})
    assert response.status_code == 302
    assert db_read(lambda s: s.get(Jurisdiction, "150207001").name) == "沙河街道办事处"


def test_a_rotating_department_needs_its_dates(login, db_read):
    admin = login("admin")
    response = admin.post("/admin/org/jurisdictions/150207/departments", data={
        "code": "police", "name": "九原公安分局", "presence": "rotating", "rotation_start": "2026-03-01", "rotation_end": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "轮驻部门需要填写轮驻结束日期" in html and 'value="九原公安分局"' in html and 'value="2026-03-01"' in html

    response = admin.post("/admin/org/jurisdictions/150207/departments", data={
        "code": "police", "name": "九原公安分局", "presence": "rotating", "rotation_start": "2026-03-01",
        "rotation_end": "2026-08-31"})
    assert response.status_code == 302
    police = db_read(lambda s: people.find_department(s, "150207", "police"))
    assert (police.rotation_start, police.rotation_end, police.active) == (date(2026, 3, 1), date(2026, 8, 31), True)

    response = admin.post(f"/admin/org/departments/{police.id}", data={
        "name": "九原公安分局", "presence": "on_call", "rotation_start": "", "rotation_end": ""})  # unticked: inactive
    assert response.status_code == 302
    police = db_read(lambda s: s.get(Department, police.id))
    assert (police.presence, police.rotation_start, police.active) == ("on_call", None, False)
    page = admin.get("/admin/org/jurisdictions/150207/departments").get_data(as_text=True)
    assert "随驻" in page and "已停用" in page


# -- users ----------------------------------------------------------------------------------------

def test_the_user_list_masks_phone_numbers_and_filters_by_role(login):
    admin = login("admin")
    html = admin.get("/admin/org/users").get_data(as_text=True)
    assert "138****8000" in html and "13800138000" not in html
    html = admin.get("/admin/org/users?role=mediator").get_data(as_text=True)
    assert "张调解" in html and "王受理" not in html


def test_the_administrator_adds_a_liaison_for_the_court(login, db_read, password):
    admin = login("admin")
    response = admin.post("/admin/org/users/new", data={
        "username": "liu", "display_name": "刘联络", "jurisdiction_code": "150207", "phone": "13900001111",
        "backup_username": "", "password": "first-password", "password2": "first-password"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/org/users/liu")

    court = department_id(db_read, "court", "150207")
    response = admin.post("/admin/org/users/liu/grants", data={"role": "liaison", "jurisdiction_code": "", "department_id": str(court)})
    assert response.status_code == 302
    grants = user(db_read, "liu").grants
    assert [(g.role, g.jurisdiction_code, g.department_id) for g in grants] == [("liaison", "150207", court)]
    page = admin.get("/admin/org/jurisdictions/150207/departments").get_data(as_text=True)
    assert "刘联络" in page


def test_a_new_user_with_problems_keeps_everything_typed_except_the_password(login, db_read):
    response = login("admin").post("/admin/org/users/new", data={
        "username": "clerk", "display_name": "重名", "jurisdiction_code": "150203", "phone": "abc",
        "backup_username": "other", "password": "first-password", "password2": "other-password"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("该用户名已被使用", "两次输入的密码不一致", "请选择您管理范围内的辖区", "不存在或不在您的管理范围内"):
        assert message in html
    assert 'value="重名"' in html and 'value="abc"' in html and "first-password" not in html


def test_grants_outside_the_county_are_refused(login, db_read):
    response = login("admin").post("/admin/org/users/clerk/grants", data={"role": "mediator", "jurisdiction_code": "150203"})
    assert response.status_code == 422 and "只能在您管理的辖区内授权" in response.get_data(as_text=True)
    response = login("admin").post("/admin/org/users/clerk/grants", data={"role": "mediator", "jurisdiction_code": "150207",
                                                                          "department_id": str(department_id(db_read, "court", "150207"))})
    assert response.status_code == 422 and "只有部门联络员按部门授权" in response.get_data(as_text=True)
    assert [g.role for g in user(db_read, "clerk").grants] == ["clerk"]


def test_editing_a_user_and_marking_them_away(login, db_read, clock):
    admin = login("admin")
    response = admin.post("/admin/org/users/mediator", data={
        "display_name": "张调解员", "jurisdiction_code": "150207001", "phone": "13700001111", "backup_username": "clerk"})
    assert response.status_code == 302
    response = admin.post("/admin/org/users/mediator/absence", data={"absent_until": "2026-03-09T18:00"})
    assert response.status_code == 302
    mediator = user(db_read, "mediator")
    assert (mediator.display_name, mediator.jurisdiction_code, mediator.backup_username) == ("张调解员", "150207001", "clerk")
    assert mediator.absent_until.isoformat() == "2026-03-09T10:00:00+00:00"

    response = admin.post("/admin/org/users/mediator/absence", data={"absent_until": "2026-03-01T09:00"})
    assert response.status_code == 422 and "应晚于现在" in response.get_data(as_text=True)


def test_reset_unlock_disable_and_enable(app, login, db_read, clock):
    admin = login("admin")
    with app.app_context():
        locked = people.find_user(db.session, "clerk")
        locked.failed_logins, locked.locked_until = 0, clock.now().replace(year=2027)
        db.session.commit()
    assert "已锁定" in admin.get("/admin/org/users/clerk").get_data(as_text=True)
    assert admin.post("/admin/org/users/clerk/unlock").status_code == 302
    assert user(db_read, "clerk").locked_until is None

    response = admin.post("/admin/org/users/clerk/password", data={"password": "short", "password2": "short"})
    assert response.status_code == 422 and "至少需要 8 个字符" in response.get_data(as_text=True)
    assert admin.post("/admin/org/users/clerk/password",
                      data={"password": "new-password", "password2": "new-password"}).status_code == 302
    assert check_password_hash(user(db_read, "clerk").password_hash, "new-password")

    assert admin.post("/admin/org/users/clerk/active", data={"active": "0"}).status_code == 302
    client = app.test_client()
    assert "用户名或密码错误" in client.post("/login", data={"username": "clerk", "password": "new-password"}).get_data(as_text=True)
    assert admin.post("/admin/org/users/clerk/active", data={"active": "1"}).status_code == 302
    assert client.post("/login", data={"username": "clerk", "password": "new-password"}).status_code == 302


def test_administrators_cannot_lock_themselves_out(login, db_read):
    admin = login("admin")
    grant_id = user(db_read, "admin").grants[0].id
    response = admin.post(f"/admin/org/users/admin/grants/{grant_id}/revoke", follow_redirects=True)
    assert "不能撤销您自己唯一的系统管理员角色" in response.get_data(as_text=True)
    response = admin.post("/admin/org/users/admin/active", data={"active": "0"}, follow_redirects=True)
    assert "不能停用您自己的账户" in response.get_data(as_text=True)
    me = user(db_read, "admin")
    assert me.active and [g.role for g in me.grants] == ["admin"]


def test_a_county_administrator_cannot_take_over_a_city_administrator(app, login, db_read):
    with app.app_context():
        city = people.find_user(db.session, "director")
        people.grant(db.session, city, "admin", "150200")
        db.session.commit()
    admin = login("admin")
    html = admin.get("/admin/org/users/director").get_data(as_text=True)
    assert "只能由上级管理员修改" in html
    assert admin.post("/admin/org/users/director/password",
                      data={"password": "taken-over!", "password2": "taken-over!"}).status_code == 403


# -- import ---------------------------------------------------------------------------------------

def workbook(rows_by_sheet: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in rows_by_sheet.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name="org.xlsx"):
    return client.post("/admin/org/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_upload_with_bad_rows_writes_nothing_and_lists_each_problem(login, db_read):
    data = workbook({
        "辖区": [["代码", "名称", "层级", "上级代码", "综治中心"],
                 ["150207002", "麻池镇", "镇", "150207", "麻池镇综治中心"],
                 ["150203002", "昆区新街道", "街道", "150203", ""]],
        "用户": [["用户名", "姓名", "所属辖区", "初始密码"], ["ma", "马调解", "150207002", "pw"]],
    })
    response = upload(login("admin"), data)

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "发现 2 处问题，未导入任何内容" in html
    rows = re.findall(r"<tr><td class=\"nowrap\">(.*?)</td><td class=\"nowrap\">(.*?)</td><td class=\"nowrap\">(.*?)</td>", html)
    assert rows == [("辖区", "3", "代码"), ("用户", "2", "初始密码")]
    assert 'name="token"' not in html  # no 确认导入 button
    assert db_read(lambda s: s.get(Jurisdiction, "150207002")) is None


def test_a_clean_upload_is_previewed_then_imported_on_confirmation(login, db_read):
    admin = login("admin")
    data = workbook({
        "辖区": [["代码", "名称", "层级", "上级代码", "综治中心"], ["150207002", "麻池镇", "镇", "150207", "麻池镇综治中心"]],
        "用户": [["用户名", "姓名", "所属辖区", "初始密码"], ["ma", "马调解", "150207002", "ma-password"]],
        "角色": [["用户名", "角色", "辖区代码"], ["ma", "调解员", "150207002"]],
    })
    response = upload(admin, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "确认导入" in html
    assert db_read(lambda s: s.get(Jurisdiction, "150207002")) is None  # only checked so far

    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    response = admin.post("/admin/org/import/confirm", data={"token": token}, follow_redirects=True)
    assert "已导入 org.xlsx" in response.get_data(as_text=True)
    ma = user(db_read, "ma")
    assert [(g.role, g.jurisdiction_code) for g in ma.grants] == [("mediator", "150207002")]
    assert admin.post("/admin/org/import/confirm", data={"token": token}, follow_redirects=True).status_code == 200
    assert db_read(lambda s: s.query(User).filter_by(username="ma").count()) == 1


def test_the_template_downloads_and_a_wrong_file_type_is_refused(login):
    admin = login("admin")
    response = admin.get("/admin/org/import/template.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert len(template_xlsx()) > 1000
    response = upload(admin, b"hello", name="org.txt")
    assert response.status_code == 422 and "只能导入" in response.get_data(as_text=True)
