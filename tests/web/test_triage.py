"""一窗分诊 (青山区, 150204): registration starts at the guide desk, which shows the 法治化路线图.

Where the `intake_triage` switch is off (九原区), 登记纠纷 is unchanged.
"""
from __future__ import annotations

import pytest

from web.extensions import db
from tests.web.conftest import add_user


@pytest.fixture
def qingshan_clerk(app, login):
    with app.app_context():
        add_user("qs_clerk", "青山区导引员", ["clerk"], "150204")
        db.session.commit()
    return login("qs_clerk")


def test_qingshan_registration_starts_at_the_guide_desk(qingshan_clerk):
    response = qingshan_clerk.get("/cases/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/triage")
    page = qingshan_clerk.get("/triage").get_data(as_text=True)
    assert "一窗分诊" in page and "邻里纠纷" in page and "法治化路线图" not in page


def test_the_guide_desk_shows_the_legal_route_then_registration_continues_with_the_category(qingshan_clerk, register):
    response = qingshan_clerk.get("/triage?category=neighbour")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "邻里纠纷 · 法治化路线图" in page
    # The steps with who handles them and their limits, from the neighbour definition in force.
    for text in ("受理审查", "窗口受理员", "1 工作日", "调处", "30 日", "司法确认", "回访"):
        assert text in page
    # The bodies of the routing table and the alternatives of the legal-route form.
    assert "村（社区）：村人民调解委员会" in page and "县（区）：县矛盾纠纷多元化解中心" in page
    assert "仲裁、诉讼、行政复议" in page
    assert 'href="/cases/new?category=neighbour"' in page

    form = qingshan_clerk.get("/cases/new?category=neighbour")
    assert form.status_code == 200
    assert 'name="_category" value="neighbour"' in form.get_data(as_text=True)
    assert register(qingshan_clerk, jurisdiction="150204") > 0  # and registers as everywhere


def test_the_route_follows_the_definition_in_force_at_the_clerks_center(login):
    # 昆都仑区's neighbour disputes run the 六步法 with 15-minute reception and forwarding.
    page = login("other").get("/triage?category=neighbour").get_data(as_text=True)
    for text in ("管家接待", "窗口分流", "双线接办", "函单调度", "分析研判", "15 分钟"):
        assert text in page
    assert "受理审查" not in page


def test_where_the_switch_is_off_registration_is_unchanged(login):
    clerk = login("clerk")  # 九原区
    response = clerk.get("/cases/new")
    assert response.status_code == 200
    assert "请选择纠纷类别" in response.get_data(as_text=True)


def test_the_guide_desk_is_for_clerks_and_known_categories(app, login, qingshan_clerk):
    assert login("mediator").get("/triage").status_code == 403
    assert qingshan_clerk.get("/triage?category=no_such_category").status_code == 404
    anonymous = app.test_client().get("/triage")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
