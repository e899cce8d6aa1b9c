"""包头·九原区 (150207): 受理 → 分流 → 调解 → 督办 → 反馈 → 回访 → 归档 with 日提醒, 周督办, 跨部门转办 within
2 工作日 signed off by the lead, and the share closed within 10 工作日 in its reports.

Everything is switched on in processes/variants/150207/variant.toml; the scenarios run real cases
with a fake clock starting Monday 2 March 2026, 09:00 Beijing.
"""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engine.actors import Actor
from engine.assignment import Assignments
from engine.calendar import SHANGHAI, Duration, Unit
from engine.calendar_store import set_override
from engine.closed_within import closed_within_rule
from engine.cockpit_metrics import month_of, week_of
from engine.cockpit_reports import monthly_report, weekly_report
from engine.digests import DAILY, WEEKLY, run_due
from engine.locality_jobs import run_locality_jobs
from engine.models import Notice, RoleGrant, User
from engine.transfers import DepartmentTransfers, deadline_state, transfer_limit
from tests.engine.org import COUNTY, COUNTY_STAFF, TOWNSHIP, add_department, build_tree
from tests.engine.scenario import CaseScenario, mediate

INTAKE_STEPS = ("accept", "assess", ("dispatch", {"handling_level": "county", "department": "县人民调解委员会"}))
# 九原区's handlers as the demo names them; a township mediator inherits the county's switch.
PEOPLE = {
    "jy.clerk": [("clerk", COUNTY)],
    "jy.analyst": [("analyst", COUNTY)],
    "jy.analyst_b": [("analyst", COUNTY)],  # AB岗 backup of jy.analyst
    "jy.mediator": [("mediator", COUNTY)],
    "jy.director": [("director", COUNTY)],
    "hl.mediator": [("mediator", TOWNSHIP)],
    "hl.director": [("director", TOWNSHIP)],
}


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def actor(username: str) -> Actor:
    roles = PEOPLE[username]
    return Actor.of(username, {role for role, _ in roles}, roles[0][1], username)


@pytest.fixture
def jiuyuan(sessions):
    """The 九原区 tree and its handlers as users (the digest reads users and grants from the table)."""
    build_tree(sessions)
    with sessions() as session:
        for username, grants in PEOPLE.items():
            session.add(User(username=username, display_name=username, password_hash="-", jurisdiction_code=grants[0][1],
                             grants=[RoleGrant(role=role, jurisdiction_code=code) for role, code in grants]))
        session.commit()


def notices(sessions, kind: str | None = None) -> dict[str, list[Notice]]:
    with sessions() as session:
        rows = session.scalars(select(Notice).where(*([Notice.kind == kind] if kind else []))
                               .order_by(Notice.created_at, Notice.id)).all()
    result: dict[str, list[Notice]] = {}
    for row in rows:
        result.setdefault(row.recipient, []).append(row)
    return result


def listed(notice: Notice) -> list[tuple[str, str, str]]:
    return [(item["case_code"], item["node"], item["state"]) for item in notice.items]


@pytest.fixture
def cases(jiuyuan, sessions, runtime, clock):
    """Three cases registered on Monday 2 March 09:00 at 九原区:
    A waits for 受理审查 (clerk, unclaimed, due Tuesday), C for 研判 (claimed by jy.analyst, due
    Tuesday), B is in 调解 (claimed by jy.mediator, 30 日: due 1 April)."""
    a = CaseScenario(sessions, runtime, COUNTY_STAFF, clock)
    b = CaseScenario(sessions, runtime, COUNTY_STAFF, clock)
    c = CaseScenario(sessions, runtime, COUNTY_STAFF, clock)
    b.do_all(*INTAKE_STEPS)
    c.do("accept")
    with sessions() as session:
        Assignments(clock).claim(session, b.task("mediate").id, actor("jy.mediator"))
        Assignments(clock).claim(session, c.task("assess").id, actor("jy.analyst"))
    return SimpleNamespace(a=a, b=b, c=c, codes={k: s.case().code for k, s in (("a", a), ("b", b), ("c", c))})


def test_the_daily_digest_lists_exactly_each_handlers_due_tasks_once_a_working_day(
        cases, sessions, runtime, clock):
    a, c = cases.codes["a"], cases.codes["c"]
    with sessions() as session:  # Wednesday 4 March is declared a rest day for 九原区 (a local holiday)
        set_override(session, date(2026, 3, 4), False, "区内调休", "admin", clock.now(), COUNTY)
        session.commit()

    assert run_due(sessions, runtime) == 2  # Monday 09:00: two handlers have something due by Tuesday night
    digests = notices(sessions, DAILY)
    assert sorted(digests) == ["jy.analyst", "jy.clerk"]
    assert listed(digests["jy.clerk"][0]) == [(a, "受理审查", "正常")]  # unclaimed in the clerks' queue
    assert listed(digests["jy.analyst"][0]) == [(c, "分析研判", "正常")]  # claimed by them
    # jy.analyst_b: C's 研判 is claimed by a colleague who is at work; jy.mediator: 调解 is due on 1 April.
    assert digests["jy.clerk"][0].period == "2026-03-02" and digests["jy.clerk"][0].jurisdiction_code == COUNTY

    assert run_due(sessions, runtime) == 0  # the job runs every minute: nothing is made twice
    assert run_locality_jobs(sessions, runtime)["digests"] == 0

    clock.set(at(3, 3, 7, 59))
    assert run_due(sessions, runtime) == 0  # not before 08:00
    clock.set(at(3, 3, 8, 0))
    assert run_due(sessions, runtime) == 2
    clock.set(at(3, 4, 9))
    assert run_due(sessions, runtime) == 0  # the local rest day

    # Thursday: jy.analyst is away; their backup gets C's overdue 研判 in their digest (AB岗).
    with sessions() as session:
        absent = session.scalars(select(User).where(User.username == "jy.analyst")).one()
        absent.absent_until, absent.backup_username = at(3, 6, 18), "jy.analyst_b"
        session.commit()
    clock.set(at(3, 5, 8, 30))
    assert run_due(sessions, runtime) == 3
    thursday = {name: rows[-1] for name, rows in notices(sessions, DAILY).items()}
    assert listed(thursday["jy.analyst_b"]) == [(c, "分析研判", "超期")]
    assert listed(thursday["jy.clerk"]) == [(a, "受理审查", "超期")]

    clock.set(at(3, 7, 9))
    assert run_due(sessions, runtime) == 0  # Saturday
    clock.set(at(3, 8, 9))
    assert run_due(sessions, runtime) == 0  # Sunday
    assert sum(len(rows) for rows in notices(sessions, DAILY).values()) == 7


def test_a_task_coming_due_tomorrow_joins_the_digest_and_a_far_one_does_not(cases, sessions, runtime, clock):
    # Thursday 26 March: B's 调解 (due Wednesday 1 April) is still three working days away …
    clock.set(at(3, 26, 9))
    run_due(sessions, runtime)
    assert "jy.mediator" not in notices(sessions, DAILY)
    # … on Tuesday 31 March it ends before the end of the next working day.
    clock.set(at(3, 31, 9))
    run_due(sessions, runtime)
    [digest] = notices(sessions, DAILY)["jy.mediator"]
    assert listed(digest) == [(cases.codes["b"], "调处", "临期")]


def test_the_directors_get_the_weekly_supervision_list_on_monday(cases, sessions, runtime, clock):
    a, c = cases.codes["a"], cases.codes["c"]
    run_due(sessions, runtime)
    assert notices(sessions, WEEKLY) == {}  # Monday 2 March: nothing is late yet

    clock.set(at(3, 8, 23))
    run_due(sessions, runtime)
    assert notices(sessions, WEEKLY) == {}  # Sunday
    clock.set(at(3, 9, 8, 5))
    run_due(sessions, runtime)
    weekly = notices(sessions, WEEKLY)
    assert sorted(weekly) == ["jy.director"]  # 哈林格尔镇 has no late work: no notice for its director
    [notice] = weekly["jy.director"]
    assert notice.period == "2026-W11"
    assert sorted(listed(notice)) == sorted([(a, "受理审查", "超期"), (c, "分析研判", "超期")])  # B's 调解 runs on time
    assert "超期 2 项、临期 0 项" in notice.title

    clock.set(at(3, 10, 9))
    run_due(sessions, runtime)
    assert len(notices(sessions, WEEKLY)["jy.director"]) == 1  # once a week


def test_a_locality_without_the_switches_gets_no_notices(sessions, runtime, clock):
    from engine import jurisdictions

    with sessions() as session:
        jurisdictions.save(session, "150204", "青山区", "county", None, "青山区综治中心")
        session.add(User(username="qs.clerk", display_name="青山区受理员", password_hash="-", jurisdiction_code="150204",
                         grants=[RoleGrant(role="clerk", jurisdiction_code="150204")]))
        session.commit()
    CaseScenario(sessions, runtime, Actor.of("qs", {"clerk"}, "150204"), clock, jurisdiction="150204")
    assert run_due(sessions, runtime) == 0


# -- 跨部门转办 within 2 工作日 ---------------------------------------------------------------------------

LABOUR_INTAKE = {"title": "某建筑公司拖欠工资", "summary": "项目完工后公司未发放最后两个月工资。", "channel": "walk_in",
                 "applicant_name": "王强", "applicant_phone": "13904720011", "employer_name": "九原某建筑工程有限公司",
                 "workers_count": 12, "wage_amount": 360000}
MEDIATION_CENTER, INSPECTION, JUSTICE = "县（区）劳动人事争议调解中心", "人社局劳动保障监察大队", "司法局"
LABOUR_ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"wage_arrears": True, "workers_count": 12, "wage_amount": 360000, "assessment": "农民工群体欠薪"},
    "dispatch": {"handling_level": "county", "department": MEDIATION_CENTER},
}


def test_the_transfer_limit_is_the_localitys_setting(registry, sessions):
    with sessions() as session:
        assert transfer_limit(session, COUNTY, None, registry.variants) == Duration(2, Unit.WORKDAY)
    stricter = SimpleNamespace(get=lambda code: SimpleNamespace(settings={"transfer_limit": Duration(1, Unit.WORKDAY)})
                               if code == "150207001" else None)
    assert transfer_limit(None, "150207001001", None, stricter) == Duration(1, Unit.WORKDAY)  # a township's own
    assert transfer_limit(None, "150207001001", {"150207001001": "3 工作日"}, stricter) == Duration(3, Unit.WORKDAY)


def test_a_transfer_not_signed_off_within_2_working_days_is_flagged_and_a_signed_one_moves_the_case(
        jiuyuan, sessions, runtime, clock):
    departments = {name: add_department(sessions, COUNTY, code, name)
                   for code, name in (("ldtj", MEDIATION_CENTER), ("ldjc", INSPECTION), ("sfj", JUSTICE))}
    liaison = Actor.of("jy.liaison", {"liaison"}, COUNTY, "调解中心联络员", departments[MEDIATION_CENTER])
    lead = Actor.of("jy.director", {"director"}, COUNTY, "九原区综治中心主任")
    case = CaseScenario(sessions, runtime, COUNTY_STAFF, clock, category="labour", intake=LABOUR_INTAKE,
                        answers=LABOUR_ANSWERS)
    case.do_all("accept", "assess", "dispatch")
    transfers = DepartmentTransfers(runtime)  # no configured override: the variant's 2 工作日 applies

    with sessions() as session:  # Monday 09:00
        first = transfers.request(session, case.case_id, departments[JUSTICE], "属法律援助事项", liaison)
    assert (first.time_limit, first.due_at) == ("2 工作日", datetime(2026, 3, 4, 23, 59, 59, tzinfo=SHANGHAI))

    clock.set(at(3, 4, 23, 59))
    assert case.sweep().overdue_transfers == []
    clock.set(at(3, 5, 0, 1))  # Thursday: two working days have passed without the lead's signature
    assert case.sweep().overdue_transfers == [first.id]
    assert "超期" in case.events("transfer_overdue")[0].summary
    with sessions() as session:
        [row] = transfers.pending(session, lead)
        assert deadline_state(row.transfer, clock.now()) == "超期"
        transfers.decide(session, first.id, False, "应由劳动监察处理", lead)

    with sessions() as session:  # a new request, signed off the next morning: the case moves
        second = transfers.request(session, case.case_id, departments[INSPECTION], "属劳动保障监察职责", liaison)
    clock.set(at(3, 6, 10))
    with sessions() as session:
        transfers.decide(session, second.id, True, "同意", lead)
    assert case.case().department_id == departments[INSPECTION]
    [approved] = case.events("transfer_approved")
    assert approved.data["late"] is False
    assert "transfer_order" in case.doc_types()


# -- 10个工作日内办结率 -------------------------------------------------------------------------------

def close_case(sessions, runtime, clock, closed_at: datetime) -> CaseScenario:
    """A neighbour case registered on Monday 2 March 09:00, mediated at once, archived at `closed_at`."""
    clock.set(at(3, 2, 9))
    case = CaseScenario(sessions, runtime, COUNTY_STAFF, clock)
    case.do_all(*INTAKE_STEPS, ("mediate", mediate("success")), "agreement", "notify_result", "follow_up")
    clock.set(closed_at)
    case.do("archive")
    assert case.case().closed_at == closed_at
    return case


def test_reports_show_the_share_closed_within_10_working_days(jiuyuan, sessions, runtime, clock):
    # 10 工作日 from Monday 2 March (not counted) ends on Monday 16 March, 23:59:59.
    close_case(sessions, runtime, clock, at(3, 6, 15))
    close_case(sessions, runtime, clock, at(3, 16, 23, 0))
    close_case(sessions, runtime, clock, at(3, 17, 10))
    clock.set(at(3, 31, 18))
    manager = Actor.of("jy.manager", {"manager"}, COUNTY)
    with sessions() as session:
        rule = closed_within_rule(session, runtime.registry.variants, runtime.calendar_loader, COUNTY)
        assert rule.label == "10个工作日内办结率"
        report = monthly_report(session, manager, COUNTY, month_of(date(2026, 3, 1)), clock.now(), None, rule)
        line = next(line for line in report.overall if line.key == "closed_within")
        assert (line.name, line.kind, line.current, line.previous) == ("10个工作日内办结率", "rate", 2 / 3, None)
        assert [l.key for l in report.overall][1:3] == ["closed", "closed_within"]
        week = weekly_report(session, manager, COUNTY, week_of(date(2026, 3, 16)), clock.now(), None, rule)
        assert next(l for l in week.summary if l.key == "closed_within").current == 0.5  # 16th within, 17th not
        # A scope whose locality sets nothing gets no such line.
        assert closed_within_rule(session, runtime.registry.variants, runtime.calendar_loader, "150204") is None
        plain = monthly_report(session, manager, COUNTY, month_of(date(2026, 3, 1)), clock.now())
        assert "closed_within" not in [l.key for l in plain.overall]
