"""九原区's 政法委 manager files the March 2026 月报告 and the 周梳理 of its first week, and exports the 台账: two
cases resolved (one satisfied, one via the web's success path), one not accepted, one graded red that stalls at 调处
until it is overdue — the page prints, the workbook opens with the sheets a 政法委 expects and the board's numbers,
and the ledger never carries a full ID or phone number. A clerk may not see any of it, nor may another county."""
from __future__ import annotations

import re
import zipfile
from datetime import datetime
from io import BytesIO
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import sessionmaker

from engine import jurisdictions
from engine.calendar import SHANGHAI
from engine.cockpit_board import board
from engine.cockpit_metrics import parse_period, rate
from engine.models import User
from engine.people import actor_for
from engine.timers import sweep_due_timers
from tests.web.conftest import APPLICANT_ID_NUMBER, APPLICANT_PHONE, add_user
from web.extensions import db
from web.services import services

MONTHLY_SHEETS = ["封面说明", "总体指标", "矛盾纠纷排查化解情况统计表", "分类统计", "三调对接", "督办预警"]
WEEKLY_SHEETS = ["本周概况", "临期超期清单", "红橙预警清单", "回访不满意及二次督办", "高频纠纷"]


@pytest.fixture
def manager(app, login):
    with app.app_context():
        jurisdictions.save(db.session, "150207", "九原区", "county", None, "九原区综治中心")
        add_user("manager", "钱政法", ["manager"], "150207")
        db.session.commit()
    return login("manager")


@pytest.fixture
def cases(app, login, register, act, clock, success_path):
    """The week of 2 March: one resolved, one not accepted, one red stalled at 调处 (overdue by April 2)."""

    resolved = register(act.client("clerk"))
    for username, element_id, fields in success_path:
        act(username, resolved, element_id, fields)
    rejected = register(act.client("clerk"))
    act("clerk", rejected, "accept", {"accepted": "false", "reject_reason": "不属于人民调解受理范围"})
    stalled = register(act.client("clerk"))
    act("clerk", stalled, "accept", {"accepted": "true"})
    act("analyst", stalled, "assess", {"risk_color": "红", "complexity": "complex", "assessment": "群体性苗头"})
    act("director", stalled, "dispatch", {"handling_level": "village", "department": "村人民调解委员会"})
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI))
    with app.app_context():
        sweep_due_timers(sessionmaker(bind=db.engine, expire_on_commit=False), services().runtime)
    return {"resolved": resolved, "rejected": rejected, "stalled": stalled}


def board_totals(app, clock, period_key: str) -> dict[str, int]:
    with app.app_context():
        actor = actor_for(db.session, db.session.query(User).filter_by(username="manager").one(), clock.now())
        return board(db.session, actor, "150207", parse_period(period_key, clock.now()), clock.now()).totals


def cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)]


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(BytesIO(response.data))


def test_the_monthly_report_prints_the_boards_numbers(app, manager, cases, clock):
    response = manager.get("/cockpit/reports/monthly?period=2026-03")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for section in ("cover", "overall", "places", "categories", "channels", "supervision"):
        assert f'id="{section}"' in page, section
    assert "@page" not in page and "cockpit_reports.css" in page  # print layout lives in the stylesheet
    totals = board_totals(app, clock, "2026-03")
    rows = dict(re.findall(r'<tr id="overall-(\w+)">(.*?)</tr>', page, re.S))
    assert cells(rows["received"])[0] == str(totals["received"]) == "3"
    assert cells(rows["closed"])[0] == str(totals["closed"]) == "2"
    assert cells(rows["resolution_rate"])[0] == "100.0%"  # 不予受理 is not counted as handled
    assert cells(rows["overdue"])[:2] == [str(totals["overdue"]), "—"] and totals["overdue"] == 1  # as of now
    assert cells(rows["agreement_amount"])[0] == "3,000.00"
    assert "九原区" in page and "钱政法" in page


def test_the_monthly_workbook_has_the_sheets_and_the_boards_numbers(app, manager, cases, clock):
    response = manager.get("/cockpit/reports/monthly?period=2026-03&format=xlsx")
    book = workbook(response)
    assert book.sheetnames == MONTHLY_SHEETS
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" + quote("月报告_150207_2026-03.xlsx") in disposition
    totals = board_totals(app, clock, "2026-03")

    overall = book["总体指标"]
    assert [c.value for c in overall[2]] == ["指标", "本月", "上月", "环比", "上年同期", "同比", "口径说明"]
    assert overall.freeze_panes == "A3" and overall["A2"].font.bold
    lines = {row[0].value: row for row in overall.iter_rows(min_row=3)}
    assert lines["受理量"][1].value == totals["received"] and lines["受理量"][1].number_format == "#,##0"
    assert lines["办结"][1].value == totals["closed"] and lines["超期"][1].value == totals["overdue"]
    assert lines["化解率"][1].value == rate(totals, "resolution_rate") and lines["化解率"][1].number_format == "0.0%"
    assert lines["满意度"][1].value == rate(totals, "satisfaction_rate")
    assert "不予受理不计入" in lines["化解率"][6].value  # 口径说明

    places = book["矛盾纠纷排查化解情况统计表"]
    header = [c.value for c in places[2]]
    assert header[:3] == ["地区", "受理总数", "群众来访"] and header[-2:] == ["化解率", "满意度"]
    total_row = [c.value for c in places[places.max_row]]
    assert total_row[0] == "合计" and total_row[1] == totals["received"] and total_row[2] == totals["received"]
    categories = {row[0].value: [c.value for c in row] for row in book["分类统计"].iter_rows(min_row=3)}
    assert categories["邻里纠纷"][1:4] == [totals["received"], totals["closed"], totals["resolved"]]
    channel = [c.value for c in book["三调对接"][3]]
    assert channel[:2] == ["群众来访", totals["received"]]
    supervision = {row[0].value: row[1].value for row in book["督办预警"].iter_rows(min_row=3, max_row=5)}
    assert supervision == {"临期": totals["near_due"], "超期": totals["overdue"], "二次督办": totals["second_supervision"]}
    cover = {row[0].value: row[1].value for row in book["封面说明"].iter_rows(min_row=3)}
    assert (cover["填报单位"], cover["行政区划代码"], cover["统计期"], cover["填报人"]) == ("九原区", "150207", "2026年3月", "钱政法")


def test_the_weekly_report_lists_what_is_overdue_and_red(app, manager, cases, clock):
    page = manager.get("/cockpit/reports/weekly?period=2026-W10").get_data(as_text=True)
    for section in ("summary", "deadlines", "red-orange", "follow-ups", "frequent"):
        assert f'id="{section}"' in page, section
    totals = board_totals(app, clock, "2026-W10")
    summary = dict(re.findall(r'<tr id="summary-(\w+)">(.*?)</tr>', page, re.S))
    assert cells(summary["received"])[0] == str(totals["received"]) == "3"
    assert cells(summary["overdue"])[0] == str(totals["overdue"]) == "1"
    deadlines = re.search(r'id="deadlines".*?</section>', page, re.S).group(0)
    assert f'href="/cases/{cases["stalled"]}"' in deadlines and "超出" in deadlines and "调处" in deadlines
    red = re.search(r'id="red-orange".*?</section>', page, re.S).group(0)
    assert f'href="/cases/{cases["stalled"]}"' in red and f'href="/cases/{cases["resolved"]}"' not in red

    response = manager.get("/cockpit/reports/weekly?period=2026-W10&format=xlsx")
    book = workbook(response)
    assert book.sheetnames == WEEKLY_SHEETS
    assert quote("周梳理_150207_2026-W10.xlsx") in response.headers["Content-Disposition"]
    summary_rows = {row[0].value: row[1].value for row in book["本周概况"].iter_rows(min_row=3, max_row=8)}
    assert summary_rows["新增受理"] == totals["received"] and summary_rows["超期"] == totals["overdue"]
    late = book["临期超期清单"]
    assert late.freeze_panes == "A3" and late["A1"].value.startswith("临期超期清单（共 ")
    late_rows = [[c.value for c in row] for row in late.iter_rows(min_row=3)]
    assert len(late_rows) == totals["overdue"] + totals["near_due"]
    assert any(row[2] == "调处" and row[4].startswith("超出") and isinstance(row[3], datetime) for row in late_rows)


def test_the_ledger_masks_id_and_phone_numbers(manager, cases):
    response = manager.get("/cockpit/ledger.xlsx?period=2026-03&scope=150207")
    book = workbook(response)
    assert quote("台账_150207_2026-03.xlsx") in response.headers["Content-Disposition"]
    with zipfile.ZipFile(BytesIO(response.data)) as archive:
        unpacked = b"".join(archive.read(name) for name in archive.namelist())
    for number in (APPLICANT_PHONE, APPLICANT_ID_NUMBER):
        assert number.encode() not in response.data and number.encode() not in unpacked
    sheet = book["案件台账"]
    assert "受理量" in sheet["A1"].value and "共 3 件" in sheet["A1"].value
    header = [c.value for c in sheet[2]]
    assert header[0] == "案件编号" and header[10:12] == ["证件号码", "联系电话"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert len(rows) == 3
    assert {(row[9], row[10], row[11]) for row in rows} == {("刘桂兰", "150207********1234", "138****8000")}
    assert {row[12] for row in rows} == {"化解成功", "不予受理", None}  # the open case has no result yet
    assert isinstance(rows[0][1], datetime)


def test_the_ledger_follows_the_case_list_of_a_number(manager, cases):
    overdue = load_workbook(BytesIO(manager.get("/cockpit/ledger.xlsx?metric=overdue&period=2026-03&risk=红").data))
    rows = list(overdue["案件台账"].iter_rows(min_row=3, values_only=True))
    assert [row[8] for row in rows] == ["红"]
    assert "超期" in overdue["案件台账"]["A1"].value and "风险等级：红色" in overdue["案件台账"]["A1"].value


def test_a_ledger_beyond_its_limit_is_refused_with_the_reason(manager, cases, monkeypatch):
    monkeypatch.setattr("engine.cockpit_ledger.LEDGER_LIMIT", 2)
    monkeypatch.setattr("web.cockpit_reports.LEDGER_LIMIT", 2)
    response = manager.get("/cockpit/ledger.xlsx?period=2026-03")
    assert response.status_code == 400
    assert "符合条件的案件有 3 件，台账一次最多导出 2 件" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/cockpit/reports/monthly", "/cockpit/reports/weekly", "/cockpit/ledger.xlsx",
                                 "/cockpit/reports/monthly?format=xlsx"])
def test_a_clerk_may_not_see_reports_but_the_center_director_may(login, url):
    assert login("clerk").get(url).status_code == 403
    assert login("director").get(url).status_code == 200


def test_another_county_is_refused_and_bad_parameters_are_named(login, manager, cases):
    other = login("other")  # 昆都仑区, every role including manager
    for url in ("/cockpit/reports/monthly?scope=150207", "/cockpit/reports/weekly?scope=150207&format=xlsx",
                "/cockpit/ledger.xlsx?scope=150207"):
        response = other.get(url)
        assert response.status_code == 403, url
        assert "统计范围“150207”不在您的管辖范围内" in response.get_data(as_text=True)
    own = other.get("/cockpit/ledger.xlsx?period=2026-03")
    assert list(load_workbook(BytesIO(own.data))["案件台账"].iter_rows(min_row=3)) == []  # 九原区's cases not there
    response = manager.get("/cockpit/reports/monthly?period=March")
    assert response.status_code == 400 and "2026-03-01..2026-03-15" in response.get_data(as_text=True)
    response = manager.get("/cockpit/ledger.xlsx?metric=nonsense")
    assert response.status_code == 400 and "统计条件无法识别" in response.get_data(as_text=True)
