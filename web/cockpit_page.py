"""What the cockpit page shows, built from a Board and a Trend: headline numbers with their
comparisons, the channel metrics, the breakdown tables, the risk board and the monthly trend.
Every number is a Cell (web/cockpit_cells.py) linked to the case list behind it."""
from __future__ import annotations

from dataclasses import dataclass, replace

from engine.cockpit_board import Board, Group
from engine.cockpit_metrics import COUNTS, NONE_VALUE, RATES, CaseQuery, rate
from engine.cockpit_trends import Trend

from .cockpit_cells import Cell, Change, case_list_url, count_cell, count_change, rate_cell, rate_change

# The headline (总览) in reading order: counts and rates by key.
HEADLINE = ("received", "closed", "open", "resolution_rate", "satisfaction_rate", "overdue", "near_due",
            "second_supervision")
NAMES = {**{key: c.name for key, c in COUNTS.items()}, **{key: r.name for key, r in RATES.items()}}
# The seeds' channel metrics; 调解成功率 is 化解率 counted per channel.
CHANNEL_METRICS = (("dispatch_rate", "分流率"), ("resolution_rate", "调解成功率"), ("performance_rate", "执行到位率"),
                   ("absorption_rate", "群众吸附率"))
BREAKDOWNS = (("category", "按纠纷类别"), ("level", "按承办层级"), ("department", "按承办部门"), ("channel", "按来源渠道"),
              ("place", "按下辖地区"))
BREAKDOWN_COLUMNS = HEADLINE
TREND_NAMES = {"received": "受理量", "closed": "办结", "resolved": "化解成功"}


@dataclass(frozen=True)
class Headline:
    key: str
    name: str
    current: Cell
    previous: Cell | None  # None: a count as of now (在办, 超期, 临期) has no earlier period
    year_before: Cell | None
    previous_change: Change | None
    year_change: Change | None


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class RiskRow:
    colour: str  # NONE_VALUE: not graded (未研判)
    label: str
    cells: list[Cell]  # 在办, 其中超期, 其中临期


def cell(key: str, query: CaseQuery, counts: dict[str, int]) -> Cell:
    return rate_cell(key, query, counts) if key in RATES else count_cell(replace(query, metric=key), counts)


def headline(board: Board) -> list[Headline]:
    base = board.query("received")
    before, year = replace(base, period=board.period.previous()), replace(base, period=board.period.year_before())
    items = []
    for key in HEADLINE:
        current = cell(key, base, board.totals)
        if key in COUNTS and not COUNTS[key].in_period:
            items.append(Headline(key, NAMES[key], current, None, None, None, None))
            continue
        if key in RATES:
            now_rate = rate(board.totals, key)
            changes = (rate_change(now_rate, rate(board.previous, key)), rate_change(now_rate, rate(board.year_before, key)))
        else:
            changes = (count_change(board.totals[key], board.previous[key]),
                       count_change(board.totals[key], board.year_before[key]))
        items.append(Headline(key, NAMES[key], current, cell(key, before, board.previous),
                              cell(key, year, board.year_before), *changes))
    return items


def group_rows(board: Board, dimension: str, keys) -> list[Row]:
    return [Row(group.label, [cell(key, board.query("received", **{dimension: group.value}), group.counts)
                              for key in keys])
            for group in board.groups.get(dimension, [])]


def total_row(board: Board, keys) -> Row:
    return Row("合计", [cell(key, board.query("received"), board.totals) for key in keys])


def channel_rows(board: Board) -> list[Row]:
    """受理量 and the channel metrics per intake channel."""
    keys = ("received",) + tuple(key for key, _ in CHANNEL_METRICS)
    return group_rows(board, "channel", keys)


def risk_rows(board: Board, scheme: tuple[str, ...]) -> list[RiskRow]:
    """Open cases by risk colour: every colour of the scope's scheme (even at 0), then colours graded
    under another scheme (a district with its own), then the cases not yet graded."""
    groups: dict[str, Group] = {g.value: g for g in board.groups.get("risk", [])}
    others = sorted(value for value in groups if value not in scheme and value != NONE_VALUE)
    rows = []
    for colour in (*scheme, *others, NONE_VALUE):
        counts = groups[colour].counts if colour in groups else {}
        if colour == NONE_VALUE and not counts.get("open"):
            continue
        label = "未研判" if colour == NONE_VALUE else f"{colour}色"
        rows.append(RiskRow(colour, label, [count_cell(board.query(key, risk=colour), counts)
                                            for key in ("open", "overdue", "near_due")]))
    return rows


def trend_rows(trend: Trend) -> list[Row]:
    return [Row(TREND_NAMES[key], [count_cell(trend.query(key, i), {key: value}) for i, value in enumerate(values)])
            for key, values in trend.series.items()]


def trend_chart(trend: Trend) -> dict:
    """The chart's data for web/static/cockpit.js: month labels, and per series its values and the
    case-list URL of each point."""
    return {
        "months": [f"{m.first.year}年{m.first.month}月" for m in trend.months],
        "series": [{"key": key, "name": TREND_NAMES[key], "data": values,
                    "urls": [case_list_url(trend.query(key, i)) for i in range(len(values))]}
                   for key, values in trend.series.items()],
    }
