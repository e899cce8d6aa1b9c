"""驾驶舱: 九原区's 政法委 manager opens the board for April 2026 — two cases received in March were
concluded (one resolved, one not accepted), one stalls at 调处 past its 30 日 (red, overdue), and in April one case
was resolved and another waits at 受理审查 — and every number on the page, followed to its case
list, finds exactly as many cases as it says."""
from __future__ import annotations

import html as html_lib
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from engine import jurisdictions
from engine.calendar import SHANGHAI
from engine.cockpit_board import board
from engine.cockpit_metrics import COUNTS, month_of, parse_period
from engine.cockpit_risk import risk_scheme
from engine.cockpit_trends import monthly_trend
from engine.people import actor_for
from engine.models import User
from engine.timers import sweep_due_timers
from tests.web.conftest import APPLICANT_PHONE, add_user
from web.extensions import db
from web.services import services

NUMBER_LINK = re.compile(r'<a class="cockpit-number (count|rate)" href="(/cases\?metric=[^"]+)" data-count="(\d+)"'
                         r'[^>]*>([^<]+)</a>')
DRILL_TOTAL = re.compile(r'<strong id="drill-total">(\d+)</strong>')


@pytest.fixture
def manager(app, login):
    with app.app_context():
        add_user("manager", "钱政法", ["manager"], "150207")
        db.session.commit()
    return login("manager")


@pytest.fixture
def cases(app, login, register, act, clock, success_path):
    """March: one resolved, one not accepted, one stalled at 调处 (red; overdue by April); April: one resolved, one
    waiting at 受理审查. Returns the ids by name."""

    def resolve():
        case_id = register(act.client("clerk"))
        for username, element_id, fields in success_path:
            act(username, case_id, element_id, fields)
        return case_id

    ids = {"march_resolved": resolve()}
    ids["rejected"] = register(act.client("clerk"))
    act("clerk", ids["rejected"], "accept", {"accepted": "false", "reject_reason": "不属于人民调解受理范围"})
    ids["stalled"] = register(act.client("clerk"))
    act("clerk", ids["stalled"], "accept", {"accepted": "true"})
    act("analyst", ids["stalled"], "assess", {"risk_color": "红", "complexity": "complex", "assessment": "群体性苗头"})
    act("director", ids["stalled"], "dispatch", {"handling_level": "village", "department": "村人民调解委员会"})
    clock.set(datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI))  # Monday
    ids["april_resolved"] = resolve()
    ids["waiting"] = register(act.client("clerk"))
    clock.advance(timedelta(hours=30))  # 受理审查 is 1 工作日: its warning has passed, its limit has not
    with app.app_context():
        sweep_due_timers(sessionmaker(bind=db.engine, expire_on_commit=False), services().runtime)
    return ids


def number_links(page: str) -> list[tuple[str, str, int, str]]:
    """(kind, case-list URL, count, text) of every number on a cockpit page."""
    return [(kind, html_lib.unescape(href), int(count), text) for kind, href, count, text in NUMBER_LINK.findall(page)]


def drill_total(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:500])
    page = response.get_data(as_text=True)
    total = int(DRILL_TOTAL.search(page).group(1))
    assert page.count('href="/cases/') == min(total, 200), url  # the list shows the cases it counts
    return total


def test_every_number_on_the_board_equals_the_count_of_the_case_list_it_opens(manager, cases):
    response = manager.get("/cockpit?period=2026-04")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    links = number_links(page)
    assert len(links) > 100
    assert page.count('class="cockpit-number') == len(links)  # every number is such a link
    checked: dict[str, int] = {}
    for kind, url, count, text in links:
        if kind == "count":
            assert text.replace(",", "") == str(count), (url, text)
        else:
            assert text == "—" or text.endswith("%"), text
        if url not in checked:
            checked[url] = drill_total(manager, url)
        assert checked[url] == count, (url, text)

    headline = {key: row for key, row in re.findall(r'<tr id="headline-(\w+)">(.*?)</tr>', page, re.S)}
    numbers = lambda key: [text for _, _, _, text in number_links(headline[key])]  # noqa: E731
    assert numbers("received") == ["2", "3", "0"]  # April, March (上期), April 2025 (同比)
    assert numbers("closed") == ["1", "2", "0"]
    assert numbers("resolution_rate") == ["100.0%", "100.0%", "—"]  # 不予受理 is not counted as handled
    assert numbers("satisfaction_rate") == ["100.0%", "100.0%", "—"]
    assert (numbers("open"), numbers("overdue"), numbers("near_due")) == (["2"], ["1"], ["1"])
    assert "-1（-33.3%）" in headline["received"]  # 环比


def test_the_risk_board_uses_the_localitys_colours_and_lists_open_cases_by_colour(app, manager, cases):
    page = manager.get("/cockpit?period=2026-04").get_data(as_text=True)
    tiles = re.findall(r'<span class="risk-name">(\S+)</span>', page)
    assert tiles == ["红色", "橙色", "黄色", "蓝色", "未研判"]  # 包头市's four colours; 九原区 has none of its own
    red = re.search(r'risk-tile-red">.*?</div>', page, re.S).group(0)
    assert [text for _, _, _, text in number_links(red)] == ["1", "1", "0"]  # open, overdue, 临期
    with app.app_context():
        assert risk_scheme(db.session, services().registry, "150202") == ("红", "橙", "黄", "蓝", "绿")  # 东河区


def test_the_trend_counts_each_month_as_the_board_does(app, manager, cases, clock):
    page = manager.get("/cockpit?period=2026-04").get_data(as_text=True)
    trend = re.search(r'<table class="table cockpit-trend">(.*?)</table>', page, re.S).group(1)
    rows = {label: [text for _, _, _, text in number_links(row)]
            for label, row in re.findall(r'<th scope="row">(\S+)</th>(.*?)</tr>', trend, re.S)}
    assert rows["受理量"][-2:] == ["3", "2"] and rows["办结"][-2:] == ["2", "1"] and rows["化解成功"][-2:] == ["1", "1"]
    assert len(rows["受理量"]) == 12 and rows["受理量"][:-2] == ["0"] * 10
    chart = json.loads(html_lib.unescape(re.search(r'id="trend-data">(.*?)</script>', page, re.S).group(1)))
    assert (chart["months"][0], chart["months"][-1]) == ("2025年5月", "2026年4月")
    assert [s["data"][-1] for s in chart["series"]] == [2, 1, 1]
    assert chart["series"][0]["urls"][-2] == "/cases?metric=received&period=2026-03&scope=150207"  # a click's list
    with app.app_context():
        actor = actor_for(db.session, db.session.query(User).filter_by(username="manager").one(), clock.now())
        result = monthly_trend(db.session, actor, "150207", parse_period("2026-04", clock.now()), clock.now())
        for index, month in enumerate(result.months):
            totals = board(db.session, actor, "150207", month_of(month.first), clock.now()).totals
            for key, values in result.series.items():
                assert values[index] == totals[key], (month.key, key)
                assert COUNTS[key].in_period


def test_the_case_list_names_what_it_counts_and_keeps_personal_data_masked(manager, cases):
    response = manager.get("/cases?metric=overdue&period=2026-04&scope=150207&risk=红")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>超期</strong> · 截至当前（实时数） · 150207 · 风险等级：红色" in page
    assert DRILL_TOTAL.search(page).group(1) == "1"
    assert 'href="/cockpit?scope=150207&amp;period=2026-04"' in page  # back to the board
    page = manager.get("/cases?metric=received&period=2026-03").get_data(as_text=True)
    assert DRILL_TOTAL.search(page).group(1) == "3"
    assert APPLICANT_PHONE not in page and "刘桂兰" in page  # phone masked as in the plain list


def test_only_managers_and_directors_see_the_board(login, manager):
    for username in ("clerk", "analyst", "mediator", "admin"):
        response = login(username).get("/cockpit")
        assert response.status_code == 403, username
        assert "驾驶舱" not in response.get_data(as_text=True), username  # nor the menu entry
    director = login("director").get("/cockpit")
    assert director.status_code == 200 and ">驾驶舱</a>" in director.get_data(as_text=True)


def test_another_countys_manager_may_not_look_at_jiuyuan(login, cases):
    other = login("other")  # 昆都仑区, every role including manager
    response = other.get("/cockpit?scope=150207")
    assert response.status_code == 403
    assert "统计范围“150207”不在您的管辖范围内" in response.get_data(as_text=True)
    assert other.get("/cases?metric=received&scope=150207").status_code == 400
    own = other.get("/cockpit?period=2026-03").get_data(as_text=True)
    received = re.search(r'<tr id="headline-received">(.*?)</tr>', own, re.S).group(1)
    assert number_links(received)[0][3] == "0"  # 九原区's cases are not counted in 昆都仑区


@pytest.mark.parametrize("query", ["period=March", "period=2026-13", "from=2026-03-01", "from=2026-03-10&to=2026-03-01"])
def test_a_period_that_cannot_be_read_is_refused_with_the_expected_form(manager, query):
    response = manager.get(f"/cockpit?{query}")
    assert response.status_code == 400
    assert "2026-03-01..2026-03-15" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["metric=nonsense", "metric=received&period=2026-99", "metric=received&department=abc"])
def test_a_drill_down_that_cannot_be_read_is_refused(manager, query):
    response = manager.get(f"/cases?{query}")
    assert response.status_code == 400
    assert "统计条件无法识别" in response.get_data(as_text=True)


def test_a_custom_range_and_other_period_kinds_are_offered(manager, cases):
    page = manager.get("/cockpit?from=2026-03-01&to=2026-04-30").get_data(as_text=True)
    assert "2026-03-01 至 2026-04-30" in page
    received = re.search(r'<tr id="headline-received">(.*?)</tr>', page, re.S).group(1)
    assert number_links(received)[0][3] == "5"
    for key in ("2026-W15", "2026-Q2", "2026"):
        assert f'value="{key}"' in page
        assert manager.get(f"/cockpit?period={key}").status_code == 200


def test_a_city_manager_chooses_among_the_city_and_its_counties_and_sees_each_countys_row(app, login, cases):
    with app.app_context():
        jurisdictions.save(db.session, "150200", "包头市", "city", None, "包头市综治中心")
        jurisdictions.save(db.session, "150207", "九原区", "county", "150200", "九原区综治中心")
        jurisdictions.save(db.session, "150203", "昆都仑区", "county", "150200", "昆都仑区综治中心")
        add_user("city", "包头市政法委", ["manager"], "150200")
        db.session.commit()
    city = login("city")
    page = city.get("/cockpit?period=2026-03").get_data(as_text=True)
    scopes = re.search(r'<select id="scope" name="scope">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="(\d+)"', scopes) == ["150200", "150203", "150207"]
    assert "驾驶舱 <span class=\"count\">包头市 · 2026年3月</span>" in page
    places = re.search(r'<h2>按下辖地区</h2>(.*?)</section>', page, re.S).group(1)
    row = re.search(r'<th scope="row">九原区</th>(.*?)</tr>', places, re.S).group(1)
    assert number_links(row)[0][1:] == ("/cases?metric=received&period=2026-03&scope=150200&place=150207", 3, "3")
    assert drill_total(city, number_links(row)[0][1]) == 3
    county = city.get("/cockpit?period=2026-03&scope=150207").get_data(as_text=True)
    assert "九原区 · 2026年3月" in county
