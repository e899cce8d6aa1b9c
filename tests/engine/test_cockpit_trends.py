"""The cockpit's monthly trend counts each month exactly as the board counts that month, and the risk
board grades in the locality's colours (九原区 in 包头市's four, 东河区 in its own five)."""
from __future__ import annotations

from engine.cockpit_board import board
from engine.cockpit_metrics import parse_period
from engine.cockpit_risk import base_scheme, risk_scheme
from engine.cockpit_trends import SERIES, monthly_trend, trailing_months
from tests.engine.test_cockpit_board import JIUYUAN, MANAGER, OUTSIDER, month  # noqa: F401 — fixture


def test_each_month_of_the_trend_equals_the_board_of_that_month(sessions, clock, month):  # noqa: F811
    period = parse_period("2026-04", clock.now())
    with sessions() as session:
        trend = monthly_trend(session, MANAGER, JIUYUAN, period, clock.now())
        assert [m.key for m in trend.months] == [m.key for m in trailing_months(period)]
        assert (trend.months[0].key, trend.months[-1].key) == ("2025-05", "2026-04")
        for index, each in enumerate(trend.months):
            totals = board(session, MANAGER, JIUYUAN, each, clock.now()).totals
            assert {key: trend.series[key][index] for key in SERIES} == {key: totals[key] for key in SERIES}, each.key
        assert trend.series["received"][-2:] == [4, 1]  # the 临期 case came in after 调处 ran 31 days
        assert trend.series["closed"][-2:] == [3, 0]
        assert monthly_trend(session, OUTSIDER, JIUYUAN, period, clock.now()).series["received"] == [0] * 12
    assert trend.query("resolved", 10).params() == {"metric": "resolved", "period": "2026-03", "scope": JIUYUAN}


def test_a_week_or_range_ends_the_trend_with_the_month_of_its_last_day(clock):
    assert trailing_months(parse_period("2026-03-20..2026-04-02", clock.now()))[-1].key == "2026-04"
    assert trailing_months(parse_period("2026-Q1", clock.now()))[-1].key == "2026-03"


def test_risk_colours_follow_the_variant_of_the_scope(sessions, registry):
    with sessions() as session:
        assert risk_scheme(session, registry, "150207") == ("红", "橙", "黄", "蓝")  # 包头市's scheme
        assert risk_scheme(session, registry, "150202001") == ("红", "橙", "黄", "蓝", "绿")  # inside 东河区
        assert risk_scheme(session, registry, "110000") == base_scheme(registry) == ("红", "橙", "黄", "蓝")
