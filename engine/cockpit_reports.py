"""周梳理 and 月报告: the content of the weekly and monthly reports a 政法委 expects, as plain dataclasses.

Every number comes from the board (engine/cockpit_board.py) or from a `CaseQuery` condition of
engine/cockpit_metrics.py, so a report can never disagree with the board or with the case list a
number drills into. The web layer lays the content out as a printable page and an Excel workbook.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case as when, func, or_, select
from sqlalchemy.orm import Session

from .actors import Actor
from .closed_within import ClosedWithin, closed_within_share
from .cockpit_board import Board, Group, board
from .cockpit_metrics import COUNTS, NONE_VALUE, RATES, CaseQuery, Period, place_expression, rate
from .models import Case, Department, HumanTask, Jurisdiction
from .queries import STATUS_NAMES

# 口径说明: what each line of 总体指标 counts, in the words the report prints next to it.
DEFINITIONS = {
    "received": "统计期内登记受理的案件数（按登记时间）",
    "closed": "统计期内办结或终止的案件数（按办结时间）",
    "resolved": "统计期内办结且化解成功的案件数（调解成功或当场办结）",
    "resolution_rate": "化解成功 ÷ 调处办结（化解成功与未化解之和，不予受理不计入）",
    "overdue": "截至报表生成时在办且已超期的案件数：计时器标记超期，或有未暂停环节超过办理期限（实时数，不比较）",
    "near_due": "截至报表生成时在办、未超期但已过预警时间的案件数（实时数，不比较）",
    "satisfaction_rate": "满意与基本满意 ÷ 统计期内办结且已回访的案件数",
    "second_supervision": "统计期内办结且经过至少一次二次督办的案件数",
    "agreement_amount": "统计期内化解成功案件的调解协议金额合计（元），未填金额的案件不计",
    "absorption_rate": "未转诉讼、仲裁、信访的办结案件 ÷ 办结案件",
    "dispatch_rate": "统计期内受理且已分流转办的案件 ÷ 受理量",
    "performance_rate": "核查为履行到位的协议 ÷ 已核查履行情况的协议",
}
# 总体指标 in the order the monthly report prints them.
OVERALL = ("received", "closed", "resolved", "resolution_rate", "overdue", "near_due", "satisfaction_rate",
           "second_supervision", "agreement_amount", "absorption_rate")
DISSATISFIED = "dissatisfied"
LIST_LIMIT = 500  # rows per weekly list; the total is always stated, so a longer list is never silently cut
TOP = 5  # 高频纠纷: categories and places shown


@dataclass(frozen=True)
class Line:
    """One 总体指标 line: a count (int), a rate (float in [0, 1]) or an amount; None shows as —."""

    key: str
    name: str
    kind: str  # count / rate / amount
    current: float | int | None
    previous: float | int | None  # None also for a count as of now: it has no earlier period
    year_before: float | int | None
    definition: str
    compared: bool = True  # False: 在办, 超期, 临期 are counts as of now

    @property
    def previous_change(self) -> float | None:
        return _change(self.kind, self.current, self.previous) if self.compared else None

    @property
    def year_change(self) -> float | None:
        return _change(self.kind, self.current, self.year_before) if self.compared else None


def _change(kind: str, current, earlier) -> float | None:
    """环比 / 同比: a count's relative change; a rate's change in percentage points (as a fraction)."""
    if current is None or earlier is None:
        return None
    if kind == "rate":
        return current - earlier
    return (current - earlier) / earlier if earlier else None


@dataclass(frozen=True)
class PlaceLine:
    """矛盾纠纷排查化解情况统计表: one place one level below the scope, or the 合计 line."""

    label: str
    received: int
    by_channel: dict[str, int]  # channel code -> received
    closed: int
    resolved: int
    open: int
    overdue: int
    resolution_rate: float | None
    satisfaction_rate: float | None


@dataclass(frozen=True)
class CategoryLine:
    label: str
    received: int
    closed: int
    resolved: int
    resolution_rate: float | None
    received_year_before: int
    year_change: float | None  # 同比 of 受理量


@dataclass(frozen=True)
class ChannelLine:
    """三调对接: an intake channel and the seeds' channel metrics."""

    label: str
    received: int
    dispatch_rate: float | None
    resolution_rate: float | None  # 调解成功率
    performance_rate: float | None  # 执行到位率
    absorption_rate: float | None  # 群众吸附率


@dataclass(frozen=True)
class RiskLine:
    label: str
    open: int
    overdue: int
    near_due: int


@dataclass(frozen=True)
class Supervision:
    """督办预警: 临期, 超期 (now), 二次督办 (in the period) and the open cases by risk colour."""

    near_due: int
    overdue: int
    second_supervision: int
    by_risk: list[RiskLine]


@dataclass(frozen=True)
class MonthlyReport:
    scope: str
    scope_name: str
    period: Period
    now: datetime
    board: Board
    overall: list[Line]
    channels: list[tuple[str, str]]  # (code, label) of the channel columns of the places table
    places: list[PlaceLine]  # the places, then 合计
    categories: list[CategoryLine]
    channel_lines: list[ChannelLine]
    supervision: Supervision


@dataclass(frozen=True)
class CaseLine:
    """One case of a weekly list; `remaining` is negative once the limit has passed."""

    case_id: int
    code: str
    category: str
    node: str
    due_at: datetime | None
    remaining: timedelta | None
    unit: str
    risk_color: str | None
    state: str  # 超期 / 临期, or the case's status name
    satisfaction: str | None = None
    second_supervision_count: int = 0


@dataclass(frozen=True)
class Listing:
    rows: list[CaseLine]
    total: int  # every case the list's condition selects; rows holds at most LIST_LIMIT of them


@dataclass(frozen=True)
class Frequent:
    label: str
    received: int


@dataclass(frozen=True)
class WeeklyReport:
    scope: str
    scope_name: str
    period: Period
    now: datetime
    board: Board
    summary: list[Line]  # 新增, 办结, 化解, 在办, 临期, 超期
    deadlines: Listing  # 临期超期清单
    red_orange: Listing  # 红橙预警清单
    follow_ups: Listing  # 回访不满意及二次督办
    top_categories: list[Frequent]
    top_places: list[Frequent]


# -- the monthly report ---------------------------------------------------------------------------

def monthly_report(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                   category_names: dict[str, str] | None = None,
                   closed_within: ClosedWithin | None = None) -> MonthlyReport:
    """月报告 of `scope` (checked against what `actor` reads by the caller) for `period`; with
    `closed_within` (the scope's locality sets one, engine/closed_within.py) a line for that share."""
    result = board(session, actor, scope, period, now, category_names)
    amounts = {p.key: agreement_amount(session, actor, scope, p, now)
               for p in (period, period.previous(), period.year_before())}
    overall = [_amount_line(amounts, period) if key == "agreement_amount" else _line(result, key) for key in OVERALL]
    _add_closed_within(overall, session, actor, scope, period, now, closed_within, after="closed")
    channels = [(g.value, g.label) for g in result.groups["channel"]]
    crossed = received_by(session, actor, scope, period, now, place_expression(scope), Case.intake_channel)
    places = [_place_line(g.label, g.counts, {code: crossed.get((g.value, code), 0) for code, _ in channels})
              for g in result.groups["place"]]
    places.append(_place_line("合计", result.totals, {g.value: g.counts["received"] for g in result.groups["channel"]}))
    year_received = {code: n for (code,), n in
                     received_by(session, actor, scope, period.year_before(), now, Case.category_code).items()}
    categories = [_category_line(g, year_received.get(g.value, 0)) for g in result.groups["category"]]
    channel_lines = [ChannelLine(g.label, g.counts["received"], rate(g.counts, "dispatch_rate"),
                                 rate(g.counts, "resolution_rate"), rate(g.counts, "performance_rate"),
                                 rate(g.counts, "absorption_rate")) for g in result.groups["channel"]]
    return MonthlyReport(scope, place_name(session, scope), period, now, result, overall, channels, places,
                         categories, channel_lines, supervision(result))


def _line(result: Board, key: str) -> Line:
    if key in RATES:
        return Line(key, RATES[key].name, "rate", rate(result.totals, key), rate(result.previous, key),
                    rate(result.year_before, key), DEFINITIONS[key])
    count = COUNTS[key]
    if not count.in_period:
        return Line(key, count.name, "count", result.totals[key], None, None, DEFINITIONS.get(key, ""), False)
    return Line(key, count.name, "count", result.totals[key], result.previous[key], result.year_before[key],
                DEFINITIONS.get(key, ""))


def _amount_line(amounts: dict[str, Decimal | None], period: Period) -> Line:
    def value(p: Period):
        amount = amounts[p.key]
        return float(amount) if amount is not None else None
    return Line("agreement_amount", "协议金额", "amount", value(period), value(period.previous()),
                value(period.year_before()), DEFINITIONS["agreement_amount"])


def _add_closed_within(lines: list[Line], session: Session, actor: Actor, scope: str, period: Period,
                       now: datetime, rule: ClosedWithin | None, after: str | None = None) -> None:
    """Insert the closed-within share (current, previous period, year before) after line `after`, or last."""
    if rule is None:
        return
    share = {p.key: closed_within_share(session, actor, scope, p, now, rule)
             for p in (period, period.previous(), period.year_before())}
    line = Line("closed_within", rule.label, "rate", share[period.key], share[period.previous().key],
                share[period.year_before().key], rule.definition)
    at = next((i + 1 for i, existing in enumerate(lines) if existing.key == after), len(lines))
    lines.insert(at, line)


def agreement_amount(session: Session, actor: Actor, scope: str, period: Period, now: datetime) -> Decimal | None:
    """The agreements' total over the cases 化解成功 counts; None when none of them has an amount."""
    condition = CaseQuery("resolved", period, scope).conditions(actor, now)
    return session.scalar(select(func.sum(Case.agreement_amount)).where(condition))


def received_by(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                *columns) -> dict[tuple[str, ...], int]:
    """受理量 grouped by `columns` together (the board rolls each dimension up on its own), keyed by the
    values as the board's groups name them (NONE_VALUE for "not set")."""
    rows = session.execute(select(*columns, func.count())
                           .where(CaseQuery("received", period, scope).conditions(actor, now))
                           .group_by(*columns)).all()
    return {tuple(NONE_VALUE if v is None else str(v) for v in row[:-1]): row[-1] for row in rows}


def _place_line(label: str, counts: dict[str, int], by_channel: dict[str, int]) -> PlaceLine:
    return PlaceLine(label, counts["received"], by_channel, counts["closed"], counts["resolved"],
                     counts["open"], counts["overdue"], rate(counts, "resolution_rate"),
                     rate(counts, "satisfaction_rate"))


def _category_line(group: Group, received_year_before: int) -> CategoryLine:
    counts = group.counts
    return CategoryLine(group.label, counts["received"], counts["closed"], counts["resolved"],
                        rate(counts, "resolution_rate"), received_year_before,
                        _change("count", counts["received"], received_year_before))


def supervision(result: Board) -> Supervision:
    by_risk = [RiskLine(g.label if g.label != g.value else f"{g.value}色", g.counts["open"], g.counts["overdue"],
                        g.counts["near_due"]) for g in result.groups["risk"] if g.counts["open"]]
    totals = result.totals
    return Supervision(totals["near_due"], totals["overdue"], totals["second_supervision"], by_risk)


def place_name(session: Session, code: str) -> str:
    row = session.get(Jurisdiction, code)
    return row.name if row else code


# -- the weekly report ----------------------------------------------------------------------------

WEEKLY = (("received", "新增受理"), ("closed", "办结"), ("resolved", "化解成功"), ("open", "在办"), ("near_due", "临期"),
          ("overdue", "超期"))


def weekly_report(session: Session, actor: Actor, scope: str, period: Period, now: datetime,
                  category_names: dict[str, str] | None = None,
                  closed_within: ClosedWithin | None = None) -> WeeklyReport:
    """周梳理 of `scope` (checked against what `actor` reads by the caller) for `period` (usually a week);
    with `closed_within` a line for the share closed within the locality's limit."""
    names = category_names or {}
    result = board(session, actor, scope, period, now, names)
    summary = [replace(_line(result, key), name=name) for key, name in WEEKLY]
    _add_closed_within(summary, session, actor, scope, period, now, closed_within)  # last: 超期 stays 6th
    # A listed case's state is read with the very conditions the board counts, never re-derived here.
    states = [("超期", CaseQuery("overdue", period, scope).conditions(actor, now)),
              ("临期", CaseQuery("near_due", period, scope).conditions(actor, now))]
    late = or_(*(condition for _, condition in states))
    red_orange = or_(*(CaseQuery("open", period, scope, {"risk": colour}).conditions(actor, now)
                       for colour in ("红", "橙")))
    closed = CaseQuery("closed", period, scope).conditions(actor, now)
    follow_ups = and_(closed, or_(Case.satisfaction == DISSATISFIED, Case.second_supervision_count > 0))
    top_places = [Frequent(g.label, g.counts["received"]) for g in result.groups["place"] if g.counts["received"]]
    return WeeklyReport(
        scope, place_name(session, scope), period, now, result, summary,
        _listing(session, late, now, names, states, (Case.next_due_at.is_(None), Case.next_due_at, Case.id)),
        _listing(session, red_orange, now, names, states, (when((Case.risk_color == "红", 0), else_=1),
                                                           Case.next_due_at.is_(None), Case.next_due_at, Case.id)),
        _listing(session, follow_ups, now, names, states, (Case.closed_at, Case.id)),
        [Frequent(g.label, g.counts["received"]) for g in result.groups["category"] if g.counts["received"]][:TOP],
        top_places[:TOP])


def _listing(session: Session, condition, now: datetime, category_names: dict[str, str], states, order) -> Listing:
    total = session.scalar(select(func.count()).select_from(Case).where(condition)) or 0
    cases = list(session.scalars(select(Case).where(condition).order_by(*order).limit(LIST_LIMIT)))
    ids = [c.id for c in cases]
    state_of: dict[int, str] = {}
    for label, state_condition in reversed(states):  # the first state listed wins
        state_of.update({i: label for i in session.scalars(select(Case.id).where(state_condition, Case.id.in_(ids)))})
    tasks: dict[int, list[HumanTask]] = {}
    for task in session.scalars(select(HumanTask).where(HumanTask.case_id.in_([c.id for c in cases]),
                                                        HumanTask.state == "ready")):
        tasks.setdefault(task.case_id, []).append(task)
    units = _unit_names(session, cases, tasks)
    return Listing([_case_line(case, _most_urgent(tasks.get(case.id, [])), now, category_names, units,
                               state_of.get(case.id)) for case in cases], total)


def _most_urgent(tasks: list[HumanTask]) -> HumanTask | None:
    """The ready task whose limit comes first: the one that makes the case 临期 or 超期."""
    dated = sorted((t for t in tasks if t.due_at is not None), key=lambda t: t.due_at)
    return dated[0] if dated else (tasks[0] if tasks else None)


def _case_line(case: Case, task: HumanTask | None, now: datetime, category_names: dict[str, str],
               units: dict[tuple[str, str], str], state: str | None) -> CaseLine:
    due_at = task.due_at if task is not None and task.due_at is not None else case.next_due_at
    state = state or STATUS_NAMES.get(case.status, case.status)
    node = task.name if task is not None else "、".join(str(n) for n in case.current_nodes or [])
    return CaseLine(case.id, case.code, category_names.get(case.category_code, case.category_code), node,
                    due_at if case.status == "open" else None,
                    due_at - now if due_at is not None and case.status == "open" else None,
                    _unit(case, task, units), case.risk_color, state, case.satisfaction, case.second_supervision_count)


def _unit_names(session: Session, cases: list[Case], tasks: dict[int, list[HumanTask]]) -> dict[tuple[str, str], str]:
    """Names of the departments and jurisdictions that handle the listed cases, read in two queries."""
    department_ids = {c.department_id for c in cases if c.department_id} | \
        {t.department_id for ts in tasks.values() for t in ts if t.department_id}
    codes = {c.handling_jurisdiction_code for c in cases} | {t.jurisdiction_code for ts in tasks.values() for t in ts}
    names = {("department", str(d.id)): d.name
             for d in session.scalars(select(Department).where(Department.id.in_(department_ids)))}
    names.update({("place", j.code): j.name for j in session.scalars(select(Jurisdiction).where(
        Jurisdiction.code.in_([c for c in codes if c])))})
    return names


def _unit(case: Case, task: HumanTask | None, units: dict[tuple[str, str], str]) -> str:
    """承办单位: the task's department, else the case's, else the handling jurisdiction."""
    for department_id in (task.department_id if task is not None else None, case.department_id):
        if department_id and ("department", str(department_id)) in units:
            return units[("department", str(department_id))]
    place = units.get(("place", case.handling_jurisdiction_code), case.handling_jurisdiction_code)
    return f"{place} {case.department}" if case.department else place
