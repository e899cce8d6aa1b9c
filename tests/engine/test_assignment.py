"""Who works on a task: offered to a queue, claimed, returned, reassigned by a director, handed to the
AB岗 backup, and done by the backup while its claimant is away — on real neighbour and labour cases.

九原区 (150207) has a county center, 沙河镇 (150207001) a township center and 新河村 (150207001001) a
village station; 劳动人事争议调解中心 and 劳动保障监察大队 are stationed at the county center.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import jurisdictions, people
from engine.actors import Actor
from engine.assignment import AssignmentError, Assignments, allowed_actions
from engine.errors import ConflictError, Forbidden, NotFound
from engine.models import Department, HumanTask, User
from engine.queries import get_case, inbox
from tests.conftest import ALL_ROLES
from tests.engine.categories.test_labour import ANSWERS as LABOUR_ANSWERS
from tests.engine.categories.test_labour import INTAKE as LABOUR_INTAKE
from tests.engine.categories.test_labour import start_arrears_case
from tests.engine.scenario import CaseScenario

COUNTY, TOWNSHIP, VILLAGE = "150207", "150207001", "150207001001"
LABOUR_MEDIATION, LABOUR_INSPECTION = "县（区）劳动人事争议调解中心", "劳动保障监察大队"

# username, display name, roles, jurisdiction, department (for a liaison), backup (AB岗)
PEOPLE = [
    ("wang", "王受理", ["clerk"], COUNTY, None, "li"),
    ("li", "李受理", ["clerk"], COUNTY, None, None),
    ("zhao", "赵受理", ["clerk"], COUNTY, None, None),
    ("sun", "孙研判", ["analyst"], COUNTY, None, None),
    ("director", "周主任", ["director"], COUNTY, None, None),
    ("kdl_director", "昆都仑区主任", ["director"], "150203", None, None),
    ("town_director", "沙河镇主任", ["director"], TOWNSHIP, None, None),
    ("town_clerk", "沙河镇受理员", ["clerk"], TOWNSHIP, None, None),
    ("town_mediator", "沙河镇调解员", ["mediator"], TOWNSHIP, None, None),
    ("village_clerk", "新河村受理员", ["clerk"], VILLAGE, None, None),
    ("village_clerk2", "新河村网格员", ["clerk"], VILLAGE, None, None),
    ("village_mediator", "新河村调解员", ["mediator"], VILLAGE, None, None),
    ("mediation_liaison", "调解中心联络员", ["liaison"], COUNTY, LABOUR_MEDIATION, None),
    ("inspection_liaison", "监察大队联络员", ["liaison"], COUNTY, LABOUR_INSPECTION, None),
    ("coordinator", "部门协调员", ["liaison"], COUNTY, None, None),
]


@pytest.fixture
def org(sessions):
    """The tree, two stationed departments and the people above, saved through engine.people."""
    with sessions() as session:
        jurisdictions.save(session, COUNTY, "九原区", "county", None, "九原区综治中心")
        jurisdictions.save(session, "150203", "昆都仑区", "county", None, "昆都仑区综治中心")
        jurisdictions.save(session, TOWNSHIP, "沙河镇", "township", COUNTY, "沙河镇综治中心")
        jurisdictions.save(session, VILLAGE, "新河村", "village", TOWNSHIP, "新河村综治站")
        departments = {name: people.save_department(session, COUNTY, code, name, "resident")
                       for code, name in (("tj", LABOUR_MEDIATION), ("jc", LABOUR_INSPECTION))}
        session.flush()
        users = {}
        for username, display_name, roles, code, department, _ in PEOPLE:
            # Built directly: hashing a real password for each of them would only slow the tests down.
            users[username] = user = User(username=username, display_name=display_name, password_hash="-",
                                          jurisdiction_code=code, failed_logins=0, active=True)
            session.add(user)
            for role in roles:
                people.grant(session, user, role, code, departments[department].id if department else None)
        for username, *_, backup in PEOPLE:
            if backup:
                people.set_backup(session, users[username], backup)
        session.commit()
    return sessions


@pytest.fixture
def assignments(clock) -> Assignments:
    return Assignments(clock)


@pytest.fixture
def who(org, clock):
    """who("wang") → the engine's Actor for that user now (with whom they stand in for)."""

    def _who(username: str) -> Actor:
        with org() as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            return people.actor_for(session, user, clock.now())

    return _who


def staff_of(code: str) -> Actor:
    """A center's all-round staff, not a user in the table: drives a case to the step under test."""
    return Actor.of(f"staff_{code}", ALL_ROLES, code)


@pytest.fixture
def county_case(org, runtime, clock, who):
    """A neighbour dispute registered by 王受理 at the county window; 受理审查 is offered to its clerks."""
    return CaseScenario(org, runtime, who("wang"), clock)


def act(sessions, method, *args):
    with sessions() as session:
        return method(session, *args)


def task_row(sessions, task_id: str) -> HumanTask:
    with sessions() as session:
        return session.get(HumanTask, task_id)


def set_absent(sessions, username: str, until) -> None:
    with sessions() as session:
        people.set_absence(session.scalars(select(User).where(User.username == username)).one(), until)
        session.commit()


# -- offered → claimed → completed -------------------------------------------------------------

def test_a_task_offered_to_the_window_is_claimed_and_completed_by_its_claimant(county_case, org, assignments,
                                                                               who, clock):
    accept = county_case.task("accept")
    assert (accept.jurisdiction_code, accept.claimed_by) == (COUNTY, None)
    assert allowed_actions(accept, who("wang")) == ["complete", "claim"]
    assert allowed_actions(accept, who("li")) == ["complete", "claim"]

    act(org, assignments.claim, accept.id, who("wang"))

    accept = county_case.task("accept")
    assert (accept.claimed_by, accept.claimed_at) == ("wang", clock.now())
    assert allowed_actions(accept, who("wang")) == ["complete", "unclaim"]
    assert allowed_actions(accept, who("li")) == []
    with pytest.raises(Forbidden):
        act(org, assignments.claim, accept.id, who("li"))
    with pytest.raises(Forbidden):
        county_case.do("accept", actor=who("li"))

    county_case.do("accept", actor=who("wang"))
    assert county_case.ready() == ["assess"]
    assert [e.actor for e in county_case.events("task_claimed")] == ["wang"]
    assert county_case.events("task_completed")[-1].actor == "wang"


def test_a_second_clerk_claiming_a_task_already_claimed_gets_a_conflict(county_case, org, assignments, who):
    task_id = county_case.task("accept").id
    with org() as first, org() as second:
        # Both pages showed it as 待认领 (kept referenced: the identity map would forget them otherwise).
        shown = [first.get(HumanTask, task_id), second.get(HumanTask, task_id)]
        assert [row.claimed_by for row in shown] == [None, None]
        assignments.claim(first, task_id, who("wang"))
        with pytest.raises(ConflictError):
            assignments.claim(second, task_id, who("li"))
    assert task_row(org, task_id).claimed_by == "wang"
    assert len(county_case.events("task_claimed")) == 1


def test_two_clerks_claiming_at_the_same_instant_one_wins(county_case, org, assignments, who):
    task_id = county_case.task("accept").id
    actors = [who("wang"), who("li")]
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(actor: Actor) -> None:
        with org() as session:
            row = session.get(HumanTask, task_id)  # both read it unclaimed before either writes
            assert row.claimed_by is None
            barrier.wait()
            try:
                assignments.claim(session, task_id, actor)
                outcomes[actor.username] = "won"
            except ConflictError:
                outcomes[actor.username] = "conflict"

    threads = [threading.Thread(target=claim, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    assert task_row(org, task_id).claimed_by == winner
    assert len(county_case.events("task_claimed")) == 1


def test_the_claimant_returns_a_task_to_the_queue_and_a_colleague_takes_it(county_case, org, assignments, who):
    task_id = county_case.task("accept").id
    act(org, assignments.claim, task_id, who("wang"))
    with pytest.raises(Forbidden):  # a colleague may not release someone else's claim
        act(org, assignments.unclaim, task_id, who("li"))

    act(org, assignments.unclaim, task_id, who("wang"))

    assert task_row(org, task_id).claimed_by is None
    assert "原认领人 wang" in county_case.events("task_unclaimed")[0].summary
    act(org, assignments.claim, task_id, who("li"))
    assert task_row(org, task_id).claimed_by == "li"


# -- reassign (改派) ------------------------------------------------------------------------------

@pytest.fixture
def village_case(org, runtime, clock):
    """A dispute registered at 新河村's station: its 受理审查 is offered to the village window."""
    return CaseScenario(org, runtime, staff_of(VILLAGE), clock, jurisdiction=VILLAGE)


def test_a_director_over_the_center_reassigns_a_task_to_someone_who_may_take_it(village_case, org, assignments,
                                                                                who):
    task_id = village_case.task("accept").id
    act(org, assignments.claim, task_id, who("village_clerk"))
    assert [u.username for u in act(org, assignments.candidates, task_row(org, task_id))] == [
        "village_clerk", "village_clerk2"]

    act(org, assignments.reassign, task_id, "village_clerk2", who("town_director"), "原承办人下村走访")

    row = task_row(org, task_id)
    assert (row.claimed_by, row.delegated_from) == ("village_clerk2", None)
    event = village_case.events("task_reassigned")[0]
    assert event.actor == "town_director" and "原承办人下村走访" in event.summary
    assert event.data == {"previous": "village_clerk", "to": "village_clerk2", "reason": "原承办人下村走访"}
    act(org, assignments.reassign, task_id, "village_clerk", who("director"))  # the county is above too
    assert task_row(org, task_id).claimed_by == "village_clerk"


def test_only_a_supervisor_over_the_center_may_reassign(village_case, org, assignments, who):
    task_id = village_case.task("accept").id
    with pytest.raises(Forbidden):  # a clerk of the same window is no supervisor
        act(org, assignments.reassign, task_id, "village_clerk2", who("village_clerk"))
    with pytest.raises(NotFound):  # another county's director does not see the case at all
        act(org, assignments.reassign, task_id, "village_clerk2", who("kdl_director"))
    assert task_row(org, task_id).claimed_by is None
    assert village_case.events("task_reassigned") == []


@pytest.mark.parametrize("target, why", [
    ("sun", "an analyst does not do a clerk's task"),
    ("town_clerk", "the township's window is not the village's"),
    ("nobody", "no such user"),
])
def test_a_task_is_reassigned_only_to_someone_who_may_take_it(village_case, org, assignments, who, target, why):
    task_id = village_case.task("accept").id
    with pytest.raises(AssignmentError):
        act(org, assignments.reassign, task_id, target, who("town_director"))
    assert task_row(org, task_id).claimed_by is None, why


def test_someone_away_is_not_offered_as_a_reassignment_candidate(village_case, org, assignments, clock):
    set_absent(org, "village_clerk2", clock.now() + timedelta(days=3))
    row = village_case.task("accept")
    assert [u.username for u in act(org, assignments.candidates, row)] == ["village_clerk"]


# -- AB岗: delegating to the backup, and the backup standing in -----------------------------------

def test_a_claimant_hands_a_task_to_their_named_backup(county_case, org, assignments, who):
    task_id = county_case.task("accept").id
    act(org, assignments.claim, task_id, who("wang"))
    assert "delegate" in act(org, assignments.actions_for, task_row(org, task_id), who("wang"))

    act(org, assignments.delegate, task_id, who("wang"))

    row = task_row(org, task_id)
    assert (row.claimed_by, row.delegated_from) == ("li", "wang")
    assert county_case.events("task_delegated")[0].data == {"from": "wang", "to": "li"}
    county_case.do("accept", actor=who("li"))
    assert county_case.ready() == ["assess"]


def test_without_a_named_backup_there_is_no_one_to_delegate_to(county_case, org, assignments, who):
    task_id = county_case.task("accept").id
    act(org, assignments.claim, task_id, who("zhao"))
    assert "delegate" not in act(org, assignments.actions_for, task_row(org, task_id), who("zhao"))
    with pytest.raises(Forbidden):
        act(org, assignments.delegate, task_id, who("zhao"))
    assert task_row(org, task_id).claimed_by == "zhao"


def test_a_backup_who_may_not_take_the_task_is_refused(county_case, org, assignments, who):
    with org() as session:
        people.set_backup(session, session.scalars(select(User).where(User.username == "zhao")).one(), "sun")
        session.commit()
    task_id = county_case.task("accept").id
    act(org, assignments.claim, task_id, who("zhao"))
    with pytest.raises(AssignmentError):  # 孙研判 is an analyst, not a clerk
        act(org, assignments.delegate, task_id, who("zhao"))
    assert task_row(org, task_id).claimed_by == "zhao"


def test_while_a_is_away_b_sees_a_claimed_task_and_completes_it_on_a_behalf(county_case, org, assignments, who,
                                                                             clock):
    task_id = county_case.task("accept").id
    act(org, assignments.claim, task_id, who("wang"))
    set_absent(org, "wang", clock.now() + timedelta(days=2))

    li = who("li")
    assert li.standing_in_for == {"wang"}
    assert task_id in {item.task.id for item in act(org, inbox, li)}
    assert allowed_actions(task_row(org, task_id), li) == ["complete"]

    county_case.do("accept", actor=li)

    completed = county_case.events("task_completed")[-1]
    assert completed.actor == "li" and "AB岗：代 wang 办理" in completed.summary
    assert completed.data["_on_behalf_of"] == "wang"
    assert task_row(org, task_id).completed_by == "li"


def test_while_a_is_present_b_cannot_touch_a_claimed_task(county_case, org, assignments, who, clock):
    task_id = county_case.task("accept").id
    act(org, assignments.claim, task_id, who("wang"))
    set_absent(org, "wang", clock.now() + timedelta(hours=2))
    clock.advance(hours=3)  # back again

    li = who("li")
    assert li.standing_in_for == frozenset()
    assert task_id not in {item.task.id for item in act(org, inbox, li)}
    assert allowed_actions(task_row(org, task_id), li) == []
    with pytest.raises(Forbidden):
        county_case.do("accept", actor=li)
    assert county_case.ready() == ["accept"]


# -- queues: the center and the department --------------------------------------------------------

def drive_to_mediation(scenario: CaseScenario, level: str) -> HumanTask:
    scenario.do("accept")
    scenario.do("assess")
    scenario.do("dispatch", {"handling_level": level, "department": "人民调解委员会"})
    return scenario.task("mediate")


def test_a_township_mediator_does_not_take_a_village_task_nor_a_village_mediator_a_township_one(
        org, runtime, clock, assignments, who):
    village = CaseScenario(org, runtime, staff_of(VILLAGE), clock, jurisdiction=VILLAGE)
    township = CaseScenario(org, runtime, staff_of(TOWNSHIP), clock, jurisdiction=TOWNSHIP)
    village_mediation = drive_to_mediation(village, "village")
    township_mediation = drive_to_mediation(township, "township")
    assert (village_mediation.jurisdiction_code, township_mediation.jurisdiction_code) == (VILLAGE, TOWNSHIP)

    town_mediator = who("town_mediator")
    with org() as session:  # the township reads its village's case but does not work the village's queue
        assert get_case(session, town_mediator, village.case_id).id == village.case_id
    assert allowed_actions(village_mediation, town_mediator) == []
    with pytest.raises(Forbidden):
        act(org, assignments.claim, village_mediation.id, town_mediator)
    with pytest.raises(NotFound):  # the village does not even see the township's case
        act(org, assignments.claim, township_mediation.id, who("village_mediator"))

    act(org, assignments.claim, village_mediation.id, who("village_mediator"))
    act(org, assignments.claim, township_mediation.id, town_mediator)
    assert task_row(org, village_mediation.id).claimed_by == "village_mediator"
    assert task_row(org, township_mediation.id).claimed_by == "town_mediator"


def test_a_liaison_of_one_department_does_not_take_another_departments_task(org, runtime, clock, assignments, who):
    case = CaseScenario(org, runtime, staff_of(COUNTY), clock, category="labour", intake=LABOUR_INTAKE,
                        answers=LABOUR_ANSWERS)
    start_arrears_case(case)  # routed to 县（区）劳动人事争议调解中心, with 劳动监察 in parallel
    accept = case.task("inspection_accept")
    with org() as session:
        mediation_centre = session.scalars(select(Department).where(Department.name == LABOUR_MEDIATION)).one()
    assert accept.department_id == mediation_centre.id

    with pytest.raises(NotFound):  # the other department's liaison does not see the case
        act(org, assignments.claim, accept.id, who("inspection_liaison"))
    assert allowed_actions(accept, who("inspection_liaison")) == []
    assert allowed_actions(accept, who("coordinator")) == ["complete", "claim"]  # coordinates every department
    act(org, assignments.claim, accept.id, who("mediation_liaison"))
    case.do("inspection_accept", actor=who("mediation_liaison"))
    assert "inspection" in case.ready()
