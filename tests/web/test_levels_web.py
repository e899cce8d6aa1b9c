"""层级与转办 in the browser: 交办 and 上报 on the case page, 申请转办, and the directors' 转办审批 page."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import jurisdictions
from engine.models import Case, DepartmentTransfer, HumanTask
from engine.people import save_department
from tests.web.conftest import add_user
from web.extensions import db

COUNTY, TOWNSHIP, VILLAGE = "150207", "150207001", "150207001001"
RED_PATH = [
    ("clerk", "accept", {"accepted": "true"}),
    ("analyst", "assess", {"risk_color": "红", "complexity": "simple", "assessment": "可能激化，县级调处。"}),
    ("director", "dispatch", {"handling_level": "county", "department": "县矛盾纠纷多元化解中心"}),
]


@pytest.fixture
def org(app):
    """九原区 → 哈林格尔镇 → 新河村, each with its center; two departments at the county; and staff."""
    with app.app_context():
        jurisdictions.save(db.session, COUNTY, "九原区", "county", None, "九原区综治中心")
        db.session.flush()
        jurisdictions.save(db.session, TOWNSHIP, "哈林格尔镇", "township", COUNTY, "哈林格尔镇综治中心")
        db.session.flush()
        jurisdictions.save(db.session, VILLAGE, "新河村", "village", TOWNSHIP, "新河村综治站")
        departments = {name: save_department(db.session, COUNTY, code, name, "resident")
                       for code, name in (("dyh", "县矛盾纠纷多元化解中心"), ("sfj", "司法局"))}
        db.session.flush()
        add_user("t_director", "镇综治中心主任", ["director"], TOWNSHIP)
        add_user("t_mediator", "镇调解员", ["mediator"], TOWNSHIP)
        db.session.commit()
        return {name: d.id for name, d in departments.items()}


@pytest.fixture
def county_case(org, login, register, ready_task):
    """A red-risk 新河村 dispute registered at the county window and kept at the county."""
    case_id = register(login("clerk"), jurisdiction=VILLAGE)
    for username, element_id, data in RED_PATH:
        response = login(username).post(f"/tasks/{ready_task(case_id, element_id)}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
    return case_id


def handling_of(db_read, case_id: int) -> str:
    return db_read(lambda s: s.get(Case, case_id).handling_jurisdiction_code)


def test_the_director_sends_the_case_down_from_its_page_and_the_township_reports_it_back(
        county_case, login, db_read):
    director = login("director")
    page = director.get(f"/cases/{county_case}").get_data(as_text=True)
    assert "层级与转办" in page and "九原区综治中心（150207）" in page
    assert f'action="/cases/{county_case}/send-down"' in page and "哈林格尔镇综治中心（哈林格尔镇）" in page
    assert f'action="/cases/{county_case}/report-up"' not in page  # nothing above the county here
    assert f'action="/cases/{county_case}/send-down"' not in login("mediator").get(f"/cases/{county_case}").get_data(
        as_text=True)

    response = director.post(f"/cases/{county_case}/send-down", data={"target": TOWNSHIP, "reason": "属地化解"})
    assert response.status_code == 303
    assert "已交办至哈林格尔镇综治中心" in director.get(response.headers["Location"]).get_data(as_text=True)
    assert handling_of(db_read, county_case) == TOWNSHIP
    assert db_read(lambda s: s.query(HumanTask).filter_by(case_id=county_case, state="ready").one().jurisdiction_code) \
        == TOWNSHIP
    assert "转送交办单" in director.get(f"/cases/{county_case}").get_data(as_text=True)

    township = login("t_director")
    page = township.get(f"/cases/{county_case}").get_data(as_text=True)
    assert "上报至九原区综治中心" in page
    response = township.post(f"/cases/{county_case}/report-up", data={"reason": "镇级无法化解"})
    assert response.status_code == 303
    assert handling_of(db_read, county_case) == COUNTY


def test_moving_a_case_needs_a_director_there_and_a_case_in_scope(county_case, login, db_read):
    assert login("mediator").post(f"/cases/{county_case}/send-down",
                                  data={"target": TOWNSHIP, "reason": "交办"}).status_code == 403
    assert login("t_director").post(f"/cases/{county_case}/send-down",
                                    data={"target": VILLAGE, "reason": "交办"}).status_code == 403
    assert login("other").post(f"/cases/{county_case}/send-down",
                               data={"target": TOWNSHIP, "reason": "交办"}).status_code == 404
    assert login("other").post(f"/cases/{county_case}/transfers",
                               data={"department_id": "1", "reason": "转办"}).status_code == 404
    # A refusal the director can act on comes back as a message on the case page.
    director = login("director")
    response = director.post(f"/cases/{county_case}/send-down", data={"target": TOWNSHIP, "reason": " "})
    assert response.status_code == 303
    assert "未能处理" in director.get(response.headers["Location"]).get_data(as_text=True)
    assert handling_of(db_read, county_case) == COUNTY


def test_a_transfer_is_requested_on_the_case_page_and_signed_off_on_the_transfers_page(
        county_case, org, login, clock, db_read):
    director = login("director")
    page = director.get(f"/cases/{county_case}").get_data(as_text=True)
    assert f'action="/cases/{county_case}/transfers"' in page and "司法局" in page
    response = director.post(f"/cases/{county_case}/transfers",
                             data={"department_id": str(org["司法局"]), "reason": "涉及法律援助"})
    assert response.status_code == 303
    page = director.get(f"/cases/{county_case}").get_data(as_text=True)
    assert "转办待签批" in page and "前往转办审批" in page

    listing = director.get("/transfers").get_data(as_text=True)
    assert "涉及法律援助" in listing and "2026-03-04 23:59" in listing and "正常" in listing
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert "超期" in director.get("/transfers").get_data(as_text=True)

    transfer_id = db_read(lambda s: s.query(DepartmentTransfer).one().id)
    assert login("mediator").get("/transfers").status_code == 403
    assert login("mediator").post(f"/transfers/{transfer_id}/decide", data={"decision": "approve"}).status_code == 403
    assert login("other").post(f"/transfers/{transfer_id}/decide", data={"decision": "approve"}).status_code == 404

    response = director.post(f"/transfers/{transfer_id}/decide", data={"decision": "approve", "note": "同意"})
    assert response.status_code == 303
    assert "已批准转办" in director.get(response.headers["Location"]).get_data(as_text=True)
    case = db_read(lambda s: s.get(Case, county_case))
    assert (case.department, case.department_id) == ("司法局", org["司法局"])
    assert "暂无待签批的转办申请" in director.get("/transfers").get_data(as_text=True)


def test_level_and_transfer_posts_need_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    for url in ("/cases/1/send-down", "/cases/1/report-up", "/cases/1/transfers", "/transfers/1/decide"):
        assert client.post(url, data={"reason": "x"}).status_code == 400
