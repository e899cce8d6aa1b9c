"""周梳理 and 月报告 say what the board says: six 邻里纠纷 cases of 九原区 — in the week of 2 March one not
accepted, one resolved to everyone's satisfaction, one resolved after a dissatisfied 回访 and a 二次督办, one graded
red and one that stalls at 调处 until it is overdue; in April one 临期 at 研判 — and every number of the monthly and
weekly reports equals the board's for the same scope and period, while each list holds exactly the cases its
condition counts."""
from __future__ import annotations

import pytest
from sqlalchemy import or_, select

from engine.actors import Actor
from engine.cockpit_board import board
from engine.cockpit_ledger import LEDGER_LIMIT, LedgerTooLarge, ledger_rows, ledger_size
from engine.cockpit_metrics import CaseQuery, parse_period, rate
from engine.cockpit_reports import monthly_report, weekly_report
from engine.models import Case
from tests.engine.scenario import INTAKE, CaseScenario, mediate

JIUYUAN = "150207"
MANAGER = Actor.of("manager", {"manager"}, JIUYUAN, "政法委")
DIRECTOR = Actor.of("director", {"director"}, JIUYUAN, "九原区综治中心")
INTAKE_STEPS = ("accept", "assess", "dispatch")
NAMES = {"neighbour": "邻里纠纷"}


@pytest.fixture
def cases(sessions, runtime, staff, clock) -> dict[str, CaseScenario]:
    def case() -> CaseScenario:
        return CaseScenario(sessions, runtime, staff, clock)

    made = {"rejected": case(), "satisfied": case(), "supervised": case(), "red": case(), "overdue": case()}
    made["rejected"].do("accept", {"accepted": False, "reject_reason": "不属于受理范围"})
    made["satisfied"].do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result",
                             "follow_up", "archive")
    supervised = made["supervised"]
    supervised.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result",
                      ("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "对方未按协议维修"}))
    supervised.do("second_supervision", {"supervision_instructions": "三日内重新调处"}, actor=DIRECTOR)
    supervised.do_all(("mediate", mediate("success")), "agreement", "notify_result",
                      ("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "仍不满意"}), "archive")
    made["red"].do_all("accept", ("assess", {"risk_color": "红", "complexity": "complex", "assessment": "群体性苗头"}))
    made["overdue"].do_all(*INTAKE_STEPS)
    clock.advance(days=31)  # 调处 is 30 日
    made["overdue"].sweep()
    made["near"] = case()
    made["near"].do("accept")
    clock.advance(hours=36)  # 研判 is 1 工作日: its warning has passed, its limit has not
    made["near"].sweep()
    return made


def codes(sessions, condition) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Case.code).where(condition)))


def test_the_monthly_report_equals_the_board(sessions, clock, cases):
    now, period = clock.now(), parse_period("2026-03", clock.now())
    with sessions() as session:
        report = monthly_report(session, MANAGER, JIUYUAN, period, now, NAMES)
        totals = board(session, MANAGER, JIUYUAN, period, now, NAMES).totals
    overall = {line.key: line for line in report.overall}
    assert (overall["received"].current, overall["closed"].current, overall["resolved"].current) == (5, 3, 2)
    for key in ("received", "closed", "resolved", "overdue", "near_due", "second_supervision"):
        assert overall[key].current == totals[key], key
    for key in ("resolution_rate", "satisfaction_rate", "absorption_rate"):
        assert overall[key].current == rate(totals, key), key
    assert overall["satisfaction_rate"].current == 0.5  # one satisfied, one dissatisfied
    assert overall["second_supervision"].current == 1
    assert overall["agreement_amount"].current == 3000.0  # two agreements of 1,500
    assert overall["received"].previous == 0 and overall["received"].previous_change is None  # nothing in February
    assert not overall["overdue"].compared and overall["overdue"].previous is None  # a count as of now

    total_line = report.places[-1]
    assert total_line.label == "合计" and total_line.received == totals["received"]
    assert sum(line.received for line in report.places[:-1]) == totals["received"]
    for line in report.places:
        assert sum(line.by_channel.values()) == line.received, line.label
    assert [(c.label, c.received, c.closed, c.resolved) for c in report.categories] == [("邻里纠纷", 5, 3, 2)]
    assert report.categories[0].year_change is None  # nothing in March 2025 to compare with
    assert [(c.label, c.received) for c in report.channel_lines] == [("群众来访", 5)]
    assert report.channel_lines[0].resolution_rate == rate(totals, "resolution_rate")
    supervision = report.supervision
    assert (supervision.near_due, supervision.overdue, supervision.second_supervision) == \
        (totals["near_due"], totals["overdue"], totals["second_supervision"])
    assert sum(line.open for line in supervision.by_risk) == totals["open"]
    assert "红色" in {line.label for line in supervision.by_risk}


def test_the_weekly_report_lists_exactly_the_cases_its_numbers_count(sessions, clock, cases):
    now, week = clock.now(), parse_period("2026-W10", clock.now())
    with sessions() as session:
        report = weekly_report(session, MANAGER, JIUYUAN, week, now, NAMES)
        totals = board(session, MANAGER, JIUYUAN, week, now, NAMES).totals
    assert [(line.name, line.current) for line in report.summary] == [
        ("新增受理", totals["received"]), ("办结", totals["closed"]), ("化解成功", totals["resolved"]),
        ("在办", totals["open"]), ("临期", totals["near_due"]), ("超期", totals["overdue"])]
    assert totals["received"] == 5 and totals["overdue"] >= 1 and totals["near_due"] >= 1

    late = or_(CaseQuery("overdue", week, JIUYUAN).conditions(MANAGER, now),
               CaseQuery("near_due", week, JIUYUAN).conditions(MANAGER, now))
    assert report.deadlines.total == totals["overdue"] + totals["near_due"]
    assert {row.code for row in report.deadlines.rows} == codes(sessions, late)
    overdue = next(row for row in report.deadlines.rows if row.code == cases["overdue"].case().code)
    assert overdue.state == "超期" and overdue.node == "调处" and overdue.remaining.total_seconds() < 0
    assert overdue.category == "邻里纠纷" and overdue.unit
    near = next(row for row in report.deadlines.rows if row.code == cases["near"].case().code)
    assert near.state == "临期" and near.remaining.total_seconds() > 0

    assert cases["red"].case().code in {row.code for row in report.red_orange.rows}
    assert all(row.risk_color in ("红", "橙") for row in report.red_orange.rows)
    assert [row.code for row in report.follow_ups.rows] == [cases["supervised"].case().code]
    assert report.follow_ups.rows[0].second_supervision_count == 1
    assert [(f.label, f.received) for f in report.top_categories] == [("邻里纠纷", 5)]
    assert sum(f.received for f in report.top_places) == 5


def test_the_ledger_masks_personal_data_and_refuses_more_than_it_holds(sessions, clock, cases, monkeypatch):
    now, period = clock.now(), parse_period("2026-03", clock.now())
    query = CaseQuery("received", period, JIUYUAN)
    with sessions() as session:
        assert ledger_size(session, MANAGER, query, now) == 5
        rows = list(ledger_rows(session, MANAGER, query, now, NAMES))
    assert len(rows) == 5 and len({row.code for row in rows}) == 5
    assert {row.applicant_phone for row in rows} == {"139****0001"}
    assert {row.applicant_id_number for row in rows} == {"150207********0012"}
    assert INTAKE["applicant_phone"] not in repr(rows) and INTAKE["applicant_id_number"] not in repr(rows)
    assert {row.outcome for row in rows} >= {"不予受理", "化解成功"}
    monkeypatch.setattr("engine.cockpit_ledger.BATCH", 2)  # keyset paging finds every case once
    with sessions() as session:
        assert [r.code for r in ledger_rows(session, MANAGER, query, now, NAMES)] == [r.code for r in rows]
        monkeypatch.setattr("engine.cockpit_ledger.LEDGER_LIMIT", 4)
        with pytest.raises(LedgerTooLarge, match="at most 4"):
            ledger_size(session, MANAGER, query, now)
    assert LEDGER_LIMIT == 50_000
