"""The node-timer list (节点计时) of 九原区 on Friday 3 April 2026, 21:00: a 邻里 mediation past its 30 日
(and the 督办 it drew to the director), a 损害赔偿 mediation paused for 鉴定, a 消费 mediation with weeks
left, an assessment whose warning has passed and a registration that has just come in — listed by due
time or by time spent, filtered by state, category, role and department, invisible from another county."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import jurisdictions
from engine.actors import Actor
from engine.cockpit_metrics import QueryError
from engine.cockpit_timers import PAGE_SIZE, UNCLAIMED, TimerFilter, node_timers
from engine.models import Department
from tests.engine.scenario import CaseScenario

JIUYUAN = "150207"
MANAGER = Actor.of("manager", {"manager"}, JIUYUAN, "九原区政法委")
OUTSIDER = Actor.of("outsider", {"manager"}, "150203", "昆都仑区政法委")
INTAKE_STEPS = ("accept", "assess", "dispatch")
PETITION = {"title": "反映拖欠工程款问题", "summary": "信访人反映某建筑公司拖欠其工程款。", "channel": "petition",
            "people_count": 1, "amount": 56000, "applicant_name": "赵磊", "applicant_phone": "13904720031",
            "applicant_id_number": "150207197905050031", "petition_number": "XF150207-2026-00017"}
HOUSING_BUREAU = "九原区住房和城乡建设局"


@pytest.fixture
def desk(sessions, runtime, staff, clock):
    """The five cases by name, each at its open task."""
    with sessions() as session:
        jurisdictions.save(session, JIUYUAN, "九原区", "county", None, "九原区综治中心")
        session.flush()
        session.add(Department(jurisdiction_code=JIUYUAN, code="housing", name=HOUSING_BUREAU, presence="resident"))
        session.commit()

    def case(category: str = "neighbour") -> CaseScenario:
        return CaseScenario(sessions, runtime, staff, clock, category=category)

    overdue = case()
    overdue.do_all(*INTAKE_STEPS)  # 调处 30 日 from Monday 2 March: due 1 April
    clock.advance(days=1)
    paused = case("damages")
    paused.do_all(*INTAKE_STEPS)
    with sessions() as session:
        runtime.pause_clock(session, paused.task("mediate").id, "鉴定", staff)
    clock.advance(days=1)
    weeks_left = case("consumer")
    weeks_left.do_all(*INTAKE_STEPS)  # 调处 45 工作日: due in May
    clock.advance(days=29)  # Thursday 2 April, 09:00
    near = case()
    near.do("accept")  # 研判 1 工作日: to Friday 23:59
    clock.advance(hours=36)  # Friday 21:00: its warning (80 %) has passed, the limit has not
    overdue.sweep()  # the mediation is overdue: 督办 for the director, 1 工作日 (after 清明, Tuesday 7 April)
    clock.advance(minutes=1)
    new = case()  # 受理审查 1 工作日: Tuesday 7 April as well, a minute younger
    return {"overdue": overdue, "paused": paused, "weeks_left": weeks_left, "near": near, "new": new}


def listed(sessions, clock, actor=MANAGER, **filters) -> list[int]:
    """Case ids of the listed tasks, in order."""
    with sessions() as session:
        page = node_timers(session, actor, TimerFilter(JIUYUAN, **filters), clock.now())
    assert page.total == len(page.rows)
    return [row.case_id for row in page.rows]


def ids(desk, *names) -> list[int]:
    return [desk[name].case_id for name in names]


def test_tasks_are_listed_soonest_due_first_or_longest_waiting_first(sessions, clock, desk):
    assert listed(sessions, clock) == ids(desk, "overdue", "paused", "near", "overdue", "new", "weeks_left")
    assert listed(sessions, clock, sort="elapsed") == ids(desk, "overdue", "paused", "weeks_left", "near", "overdue",
                                                          "new")


def test_each_row_shows_node_handler_limit_and_time_left(sessions, clock, desk, staff):
    with sessions() as session:
        rows = {(row.case_id, row.element_id): row
                for row in node_timers(session, MANAGER, TimerFilter(JIUYUAN), clock.now()).rows}
    overdue = rows[desk["overdue"].case_id, "mediate"]
    assert (overdue.element_id, overdue.node_name, overdue.deadline, overdue.state_label) == ("mediate", "调处", "30 日", "超期")
    assert overdue.time_left < timedelta(0) and overdue.time_left == overdue.due_at - clock.now()
    assert overdue.elapsed == clock.now() - overdue.created_at > timedelta(days=30)
    assert overdue.case_code == desk["overdue"].case().code and overdue.category_code == "neighbour"
    new = rows[desk["new"].case_id, "accept"]
    assert (new.role, new.state, new.elapsed, new.handler) == ("clerk", "normal", timedelta(0), UNCLAIMED)
    assert new.queue_jurisdiction == JIUYUAN and new.time_left > timedelta(days=4)
    supervision = rows[desk["overdue"].case_id, "supervise"]
    assert (supervision.role, supervision.state, supervision.due_at) == ("director", "normal", new.due_at)
    assert rows[desk["near"].case_id, "assess"].state_label == "临期"
    assert rows[desk["paused"].case_id, "mediate"].state_label == "暂停计时"
    claimed = [row for row in rows.values() if row.claimed_by]
    assert all(row.handler == staff.username for row in claimed)


def test_filters_by_state_category_role_and_department(sessions, clock, desk):
    assert listed(sessions, clock, state="overdue") == ids(desk, "overdue")
    assert listed(sessions, clock, state="paused") == ids(desk, "paused")
    assert listed(sessions, clock, state="near_due") == ids(desk, "near")
    assert listed(sessions, clock, state="normal") == ids(desk, "overdue", "new", "weeks_left")
    assert listed(sessions, clock, category="consumer") == ids(desk, "weeks_left")
    assert listed(sessions, clock, role="clerk") == ids(desk, "new")
    assert listed(sessions, clock, role="director") == ids(desk, "overdue")
    assert listed(sessions, clock, role="analyst", state="near_due") == ids(desk, "near")


def test_the_department_filter_lists_the_cases_dispatched_to_it(sessions, runtime, staff, clock, desk):
    petition = CaseScenario(sessions, runtime, staff, clock, category="petition", intake=PETITION)
    petition.do("register_dispatch", {"risk_color": "黄", "assessment": "属于住建部门职责", "dispatch_decision": "transfer",
                                      "department": HOUSING_BUREAU, "dispatch_note": "请依法处理并告知信访人"})
    # The case's department id is resolved when a liaison task is created after the routing named it:
    # the bureau's acceptance brings its 书面告知 task.
    petition.do("receipt_decision", {"receipt": "accept"}, actor=Actor.of("liaison", {"liaison"}, JIUYUAN))
    department = petition.case().department_id
    assert department is not None
    assert listed(sessions, clock, department_id=department) == [petition.case_id]
    assert listed(sessions, clock, department_id=department, role="liaison", state="normal") == [petition.case_id]


def test_another_county_sees_no_task_and_a_town_scope_none_of_the_county(sessions, clock, desk):
    assert listed(sessions, clock, actor=OUTSIDER) == []
    with sessions() as session:
        assert node_timers(session, MANAGER, TimerFilter("150207001"), clock.now()).total == 0


def test_pages_hold_fifty_and_count_every_match(sessions, clock, desk):
    with sessions() as session:
        page = node_timers(session, MANAGER, TimerFilter(JIUYUAN, page=2), clock.now())
    assert (page.rows, page.total, page.pages, PAGE_SIZE) == ([], 6, 1, 50)


def test_an_unknown_state_or_sort_is_refused_by_name(sessions, clock, desk):
    with sessions() as session:
        with pytest.raises(QueryError, match="state 'late'"):
            node_timers(session, MANAGER, TimerFilter(JIUYUAN, state="late"), clock.now())
        with pytest.raises(QueryError, match="sort 'name'"):
            node_timers(session, MANAGER, TimerFilter(JIUYUAN, sort="name"), clock.now())
