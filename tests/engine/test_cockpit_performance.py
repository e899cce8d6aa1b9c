"""考核 of 九原区 in March–April 2026: three cases registered at 白音席勒街道, each reported up to the
county and its department (住建局 or 司法局). 鲍调解 mediates one to agreement in two hours and the
agreement in one; 蔡调解 tries another for four hours, fails and points the parties to court in two —
the citizen is not satisfied, 二次督办 sends it back and 鲍调解 settles it in three hours (and the
agreement in one); 鲍调解 takes the third only after 调处 ran past its 30 日. Every case number of a
department or a mediator equals the count of the case list it drills into; the task numbers are exact."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import jurisdictions
from engine.actors import Actor
from engine.cockpit_metrics import QueryError, parse_period
from engine.cockpit_performance import performance
from engine.levels import report_up
from engine.models import Case, Department, User
from tests.engine.scenario import CaseScenario, mediate

JIUYUAN, TOWN = "150207", "150207001"
MANAGER = Actor.of("manager", {"manager"}, JIUYUAN, "九原区政法委")
OUTSIDER = Actor.of("outsider", {"manager"}, "150203", "昆都仑区政法委")
TOWN_STAFF = Actor.of("town", {"clerk", "analyst", "director"}, TOWN, "白音席勒街道综治中心")
BAO = Actor.of("bao", {"mediator"}, JIUYUAN, "鲍调解")
CAI = Actor.of("cai", {"mediator"}, JIUYUAN, "蔡调解")
HOUSING, JUSTICE = "九原区住房和城乡建设局", "九原区司法局"
SPRING = "2026-03-01..2026-04-30"


@pytest.fixture
def spring(sessions, runtime, staff, clock):
    with sessions() as session:
        jurisdictions.save(session, JIUYUAN, "九原区", "county", None, "九原区综治中心")
        jurisdictions.save(session, TOWN, "白音席勒街道", "township", JIUYUAN, "白音席勒街道综治中心")
        session.flush()
        for code, name in (("housing", HOUSING), ("justice", JUSTICE)):
            session.add(Department(jurisdiction_code=JIUYUAN, code=code, name=name, presence="resident"))
        for actor in (BAO, CAI):
            session.add(User(username=actor.username, display_name=actor.display_name, password_hash="-",
                             jurisdiction_code=JIUYUAN))
        session.commit()

    def dispatched_to(department: str) -> CaseScenario:
        case = CaseScenario(sessions, runtime, TOWN_STAFF, clock, jurisdiction=TOWN)
        case.do_all("accept", "assess", ("dispatch", {"handling_level": "township", "department": department}))
        with sessions() as session:  # the township hands it to the county, where the department sits
            report_up(session, runtime, case.case_id, "需县级职能部门处理", TOWN_STAFF)
        return case

    def close(case: CaseScenario, satisfaction: str) -> None:  # the county's window finishes it
        for step, data in (("notify_result", None), ("follow_up", {"satisfaction": satisfaction}), ("archive", None)):
            case.do(step, data, actor=staff)

    agreed = dispatched_to(HOUSING)
    clock.advance(hours=2)
    agreed.do("mediate", mediate("success"), actor=BAO)
    clock.advance(hours=1)
    agreed.do("agreement", actor=BAO)
    close(agreed, "satisfied")

    failed = dispatched_to(HOUSING)
    clock.advance(hours=4)
    failed.do("mediate", mediate("failure"), actor=CAI)
    clock.advance(hours=2)
    failed.do("legal_route", actor=CAI)
    for step, data in (("notify_result", None), ("follow_up", {"satisfaction": "dissatisfied"}),
                       ("second_supervision", None)):  # the citizen is not satisfied: 二次督办, a second round
        failed.do(step, data, actor=staff)
    clock.advance(hours=3)
    failed.do("mediate", mediate("success"), actor=BAO)
    clock.advance(hours=1)
    failed.do("agreement", actor=BAO)
    close(failed, "basically_satisfied")

    late = dispatched_to(JUSTICE)
    clock.advance(days=31)
    late.sweep()  # 调处 is past its 30 日
    late.do("mediate", mediate("success"), actor=BAO)  # its agreement stays open, unclaimed
    return {"agreed": agreed, "failed": failed, "late": late}


def rows_of(sessions, clock, actor=MANAGER, sort="-received"):
    with sessions() as session:
        result = performance(session, actor, JIUYUAN, parse_period(SPRING, clock.now()), clock.now(), sort)
    return result


def count(sessions, query, now) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Case).where(query.conditions(MANAGER, now)))


def test_departments_count_their_dispatched_cases_and_their_handling_tasks(sessions, clock, spring):
    departments = {row.label: row for row in rows_of(sessions, clock).departments}
    assert set(departments) == {HOUSING, JUSTICE}
    housing, justice = departments[HOUSING], departments[JUSTICE]
    assert (housing.received, housing.handled, housing.resolved, housing.resolution_rate) == (2, 2, 2, 1.0)
    assert (housing.surveyed, housing.satisfied, housing.satisfaction_rate) == (2, 2, 1.0)
    assert housing.second_supervision == 1
    # 调处 2 h, 4 h and 3 h, the agreements 1 h each, the legal route 2 h: median 2 h; none overdue.
    assert (housing.tasks, housing.overdue_tasks, housing.overdue_rate, housing.median_hours) == (6, 0, 0.0, 2.0)
    assert (justice.received, justice.handled, justice.resolution_rate, justice.satisfaction_rate) == (1, 0, None, None)
    # The late mediation (31 days) and the open agreement: one of two went overdue.
    assert (justice.tasks, justice.overdue_tasks, justice.overdue_rate) == (2, 1, 0.5)
    assert justice.median_hours == pytest.approx(31 * 24)


def test_mediators_count_their_tasks_and_every_case_they_mediated(sessions, clock, spring):
    mediators = {row.key: row for row in rows_of(sessions, clock).mediators}
    assert set(mediators) == {"bao", "cai"}
    bao, cai = mediators["bao"], mediators["cai"]
    assert (bao.label, cai.label) == ("鲍调解", "蔡调解")
    assert (bao.received, bao.tasks, bao.overdue_tasks, bao.overdue_rate) == (5, 5, 1, 0.2)  # 3 调处, 2 agreements
    assert bao.median_hours == 2.0  # 1 h, 1 h, 2 h, 3 h, 744 h
    assert (bao.handled, bao.resolved, bao.satisfaction_rate, bao.second_supervision) == (2, 2, 1.0, 1)
    assert (cai.received, cai.overdue_rate, cai.median_hours) == (2, 0.0, 3.0)  # 4 h and 2 h
    # The case 蔡调解 failed and 鲍调解 settled after 二次督办 is one both mediated: it counts for both.
    assert (cai.handled, cai.resolved, cai.surveyed, cai.second_supervision) == (1, 1, 1, 1)


def test_every_case_number_equals_the_count_of_the_case_list_it_drills_into(sessions, clock, spring):
    result = rows_of(sessions, clock)
    checked = 0
    for row in result.departments + result.mediators:
        for column, query in row.queries.items():
            assert count(sessions, query, clock.now()) == getattr(row, column), (row.label, column)
            checked += 1
    assert checked == 2 * 6 + 2 * 5
    mediator_query = next(r for r in result.mediators if r.key == "bao").queries["resolved"]
    assert mediator_query.params()["mediator"] == "bao"


def test_rows_sort_by_any_column_with_rates_of_nothing_last(sessions, clock, spring):
    by_rate = rows_of(sessions, clock, sort="-resolution_rate").departments
    assert [row.label for row in by_rate] == [HOUSING, JUSTICE]  # JUSTICE's rate is — : last either way
    assert [row.label for row in rows_of(sessions, clock, sort="resolution_rate").departments] == [HOUSING, JUSTICE]
    assert [row.key for row in rows_of(sessions, clock, sort="median_hours").mediators] == ["bao", "cai"]
    assert [row.key for row in rows_of(sessions, clock, sort="-median_hours").mediators] == ["cai", "bao"]
    with pytest.raises(QueryError, match="sort"):
        rows_of(sessions, clock, sort="-popularity")


def test_another_county_counts_nothing_of_jiuyuan(sessions, clock, spring):
    with sessions() as session:
        result = performance(session, OUTSIDER, "150203", parse_period(SPRING, clock.now()), clock.now())
    assert (result.departments, result.mediators) == ([], [])
    # Even asked for 九原区's scope (the web layer refuses that first), it reads none of its cases.
    with sessions() as session:
        result = performance(session, OUTSIDER, JIUYUAN, parse_period(SPRING, clock.now()), clock.now())
    assert (result.departments, result.mediators) == ([], [])
