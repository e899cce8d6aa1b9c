"""驾驶舱 in Debian chromium: the trend chart draws (ECharts, a canvas in its container) without a
script error, and clicking this month's 受理量 bar opens the case list of exactly those cases."""
from __future__ import annotations

import re

import pytest

from tests.web.browser_session import logged_in_page, manager_and_a_waiting_case
from tests.web.test_browser import server, sync_playwright  # noqa: F401
from web.designer import PACKAGE_DIR

ECHARTS_READY = (PACKAGE_DIR / "node_modules" / "echarts" / "dist" / "echarts.min.js").is_file()
# Where the chart draws this month's 受理量 bar (series 0, the last month), in page pixels.
LAST_BAR = """() => {
    const chart = window.fengqiaoCockpit.chart;
    const data = chart.getModel().getSeriesByIndex(0).getData();
    const bar = data.getItemLayout(data.count() - 1);  // the drawn rectangle: {x, y, width, height}
    const box = document.getElementById('trend-chart').getBoundingClientRect();
    return {x: box.left + bar.x + bar.width / 2, y: box.top + bar.y + bar.height / 2};
}"""


@pytest.fixture
def manager_with_a_case(csrf_app):
    if not ECHARTS_READY:
        pytest.skip("the cockpit's chart needs web/designer/node_modules (run scripts/setup.sh with Node.js installed)")
    return manager_and_a_waiting_case(csrf_app)


def test_the_trend_chart_draws_and_a_bar_opens_its_case_list(
        sync_playwright, server, manager_with_a_case, password):  # noqa: F811 — fixtures
    with logged_in_page(sync_playwright, server, "manager", password) as page:
        page.click("nav >> text=驾驶舱")
        page.wait_for_url(re.compile(r".*/cockpit$"))
        page.locator("#trend-chart").scroll_into_view_if_needed()
        page.wait_for_selector("#trend-chart[data-drawn] canvas")
        assert page.locator("#trend-chart canvas").count() >= 1
        point = page.evaluate(LAST_BAR)
        with page.expect_navigation():
            page.mouse.click(point["x"], point["y"])
        assert "/cases?metric=received&period=2026-03&scope=150207" in page.url
        assert page.locator("#drill-total").inner_text() == "1"
