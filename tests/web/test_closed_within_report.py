"""九原区's reports carry 10个工作日内办结率 (variant setting closed_within) on the page and in the workbook."""
from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from tests.web.conftest import add_user
from web.extensions import db


def test_the_monthly_and_weekly_reports_show_the_share_closed_within_10_working_days(app, login):
    with app.app_context():
        add_user("jy.manager", "九原区政法委", ["manager"], "150207")
        db.session.commit()
    manager = login("jy.manager")
    monthly = manager.get("/cockpit/reports/monthly?period=2026-03").get_data(as_text=True)
    assert 'id="overall-closed_within"' in monthly and "10个工作日内办结率" in monthly
    weekly = manager.get("/cockpit/reports/weekly?period=2026-W10").get_data(as_text=True)
    assert 'id="summary-closed_within"' in weekly
    book = load_workbook(BytesIO(manager.get("/cockpit/reports/monthly?period=2026-03&format=xlsx").data))
    assert "10个工作日内办结率" in [row[0].value for row in book["总体指标"].iter_rows()]
    book = load_workbook(BytesIO(manager.get("/cockpit/reports/weekly?period=2026-W10&format=xlsx").data))
    assert "10个工作日内办结率" in [row[0].value for row in book["本周概况"].iter_rows()]
