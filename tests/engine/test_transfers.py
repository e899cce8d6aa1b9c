"""跨部门转办: the liaison asks, the center's director signs off within 2 工作日, the case and its
department work move to the other department; an undecided request is flagged 超期 once."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import queries
from engine.actors import Actor
from engine.assignment import Assignments
from engine.calendar import SHANGHAI
from engine.errors import ConflictError, Forbidden, NotFound
from engine.models import DepartmentTransfer
from engine.transfers import DepartmentTransfers, TransferError, deadline_state
from tests.engine.org import COUNTY, COUNTY_DIRECTOR, COUNTY_MEDIATOR, COUNTY_STAFF, OUTSIDER, add_department, build_tree
from tests.engine.scenario import CaseScenario

MEDIATION_CENTER, INSPECTION = "县（区）劳动人事争议调解中心", "人社局劳动保障监察大队"
INTAKE = {"title": "某建筑公司拖欠工资", "summary": "项目完工后公司未发放最后两个月工资。", "channel": "walk_in",
          "applicant_name": "王强", "applicant_phone": "13904720011", "employer_name": "九原某建筑工程有限公司",
          "workers_count": 12, "wage_amount": 360000}
ANSWERS = {
    "accept": {"accepted": True},
    "assess": {"wage_arrears": True, "workers_count": 12, "wage_amount": 360000, "assessment": "农民工群体欠薪"},
    "dispatch": {"handling_level": "county", "department": MEDIATION_CENTER},
    "inspection_accept": {"inspection_accepted": True, "inspection_case_number": "九人社监〔2026〕1号"},
}


def at(month: int, day: int, hour: int = 23, minute: int = 59, second: int = 59) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def departments(sessions):
    build_tree(sessions)
    return {name: add_department(sessions, COUNTY, code, name)
            for code, name in (("ldtj", MEDIATION_CENTER), ("ldjc", INSPECTION), ("sfj", "司法局"))}


@pytest.fixture
def liaisons(departments):
    return {name: Actor.of(f"liaison_{department_id}", {"liaison"}, COUNTY, f"{name}联络员", department_id)
            for name, department_id in departments.items()}


@pytest.fixture
def wage_case(departments, sessions, runtime, clock) -> CaseScenario:
    """欠薪 dispatched to the county's labour mediation center: 劳动监察受理 waits for its liaison."""
    scenario = CaseScenario(sessions, runtime, COUNTY_STAFF, clock, category="labour", intake=INTAKE,
                            answers=ANSWERS)
    scenario.do_all("accept", "assess", "dispatch")
    return scenario


@pytest.fixture
def transfers(runtime):
    return DepartmentTransfers(runtime)


def request(sessions, transfers, scenario, department_id, actor, reason="属劳动保障监察职责") -> DepartmentTransfer:
    with sessions() as session:
        return transfers.request(session, scenario.case_id, department_id, reason, actor)


def decide(sessions, transfers, transfer_id, approve, actor, note="") -> DepartmentTransfer:
    with sessions() as session:
        return transfers.decide(session, transfer_id, approve, note, actor)


def test_a_signed_off_transfer_moves_the_department_and_its_liaison_work(
        wage_case, departments, liaisons, transfers, sessions, clock):
    old, new = liaisons[MEDIATION_CENTER], liaisons[INSPECTION]
    accept = wage_case.task("inspection_accept")
    assert (accept.department_id, wage_case.case().department_id) == (departments[MEDIATION_CENTER],) * 2
    with sessions() as session:
        Assignments(clock).claim(session, accept.id, old)

    transfer = request(sessions, transfers, wage_case, departments[INSPECTION], old)
    # 2 工作日 from Monday 2 March 2026 09:00: Tuesday 3, Wednesday 4 → Wednesday 23:59:59.
    assert (transfer.state, transfer.time_limit, transfer.due_at) == ("pending", "2 工作日", at(3, 4))
    clock.advance(days=1)
    decided = decide(sessions, transfers, transfer.id, True, COUNTY_DIRECTOR, "同意转办")

    assert (decided.state, decided.decided_by, decided.note) == ("approved", "county_director", "同意转办")
    case = wage_case.case()
    assert (case.department, case.department_id) == (INSPECTION, departments[INSPECTION])
    moved = wage_case.task("inspection_accept")
    assert (moved.id, moved.department_id, moved.claimed_by) == (accept.id, departments[INSPECTION], None)
    assert [e.kind for e in wage_case.events() if e.kind.startswith("transfer_")] == [
        "transfer_requested", "transfer_approved"]
    assert wage_case.events("task_requeued")[0].data["previous_claimant"] == old.username
    order = [d for d in wage_case.documents() if d.doc_type == "transfer_order"][-1]
    assert (order.data["details"]["from_department"], order.data["details"]["to_department"]) == (
        MEDIATION_CENTER, INSPECTION)
    assert INSPECTION in order.html and "原承办部门" in order.html

    # The new department works on it, and its next task comes to it too; the old one has nothing left.
    with sessions() as session:
        assert queries.inbox(session, old) == []
        assert [i.task.id for i in queries.inbox(session, new)] == [accept.id]
    with pytest.raises((Forbidden, NotFound)):
        wage_case.do("inspection_accept", actor=old)
    wage_case.do("inspection_accept", actor=new)
    assert wage_case.task("inspection").department_id == departments[INSPECTION]


def test_a_rejected_transfer_leaves_the_department(wage_case, departments, liaisons, transfers, sessions):
    transfer = request(sessions, transfers, wage_case, departments[INSPECTION], liaisons[MEDIATION_CENTER])
    decide(sessions, transfers, transfer.id, False, COUNTY_DIRECTOR, "属本中心职责，继续办理")

    case = wage_case.case()
    assert (case.department_id, wage_case.task("inspection_accept").department_id) == (
        departments[MEDIATION_CENTER],) * 2
    assert wage_case.events("transfer_rejected")[0].summary == f"不予转办：{MEDIATION_CENTER} → {INSPECTION}（属本中心职责，继续办理）"
    with pytest.raises(ConflictError, match="already"):
        decide(sessions, transfers, transfer.id, True, COUNTY_DIRECTOR)
    # Decided: another request may follow.
    assert request(sessions, transfers, wage_case, departments["司法局"], COUNTY_DIRECTOR).state == "pending"


def test_who_may_ask_and_who_signs_off(wage_case, departments, liaisons, transfers, sessions):
    with pytest.raises(Forbidden):  # sees the case, is not its department's liaison or a director
        request(sessions, transfers, wage_case, departments[INSPECTION], COUNTY_MEDIATOR)
    with pytest.raises(NotFound):  # another department's liaison does not see the case at all
        request(sessions, transfers, wage_case, departments[MEDIATION_CENTER], liaisons["司法局"])
    with pytest.raises(NotFound):
        request(sessions, transfers, wage_case, departments[INSPECTION], OUTSIDER)
    with pytest.raises(TransferError, match="reason"):
        request(sessions, transfers, wage_case, departments[INSPECTION], liaisons[MEDIATION_CENTER], reason=" ")
    with pytest.raises(TransferError, match="not another active department"):
        request(sessions, transfers, wage_case, departments[MEDIATION_CENTER], liaisons[MEDIATION_CENTER])

    transfer = request(sessions, transfers, wage_case, departments[INSPECTION], liaisons[MEDIATION_CENTER])
    with pytest.raises(TransferError, match="already waiting"):
        request(sessions, transfers, wage_case, departments["司法局"], COUNTY_DIRECTOR)
    for actor in (liaisons[MEDIATION_CENTER], COUNTY_MEDIATOR):
        with pytest.raises(Forbidden):
            decide(sessions, transfers, transfer.id, True, actor)
    with pytest.raises(NotFound):
        decide(sessions, transfers, transfer.id, True, OUTSIDER)
    with sessions() as session:
        assert session.get(DepartmentTransfer, transfer.id).state == "pending"
        assert [row.transfer.id for row in transfers.pending(session, COUNTY_DIRECTOR)] == [transfer.id]
        assert transfers.pending(session, COUNTY_MEDIATOR) == []


def test_a_transfer_left_undecided_past_its_limit_is_flagged_overdue_once(
        wage_case, departments, liaisons, transfers, sessions, clock):
    transfer = request(sessions, transfers, wage_case, departments[INSPECTION], liaisons[MEDIATION_CENTER])
    clock.set(at(3, 4, 12, 0, 0))  # Wednesday noon: past 80% of the time
    with sessions() as session:
        assert deadline_state(session.get(DepartmentTransfer, transfer.id), clock.now()) == "临期"
    assert wage_case.sweep().overdue_transfers == []

    clock.set(at(3, 5, 9, 0, 0))  # Thursday morning
    assert wage_case.sweep().overdue_transfers == [transfer.id]
    assert wage_case.sweep().overdue_transfers == []

    [flagged] = wage_case.events("transfer_overdue")
    assert "超期" in flagged.summary
    with sessions() as session:
        [row] = transfers.pending(session, COUNTY_DIRECTOR)
        assert row.transfer.overdue_at == clock.now()
        assert deadline_state(row.transfer, clock.now()) == "超期"
    # Still decidable; the record says it came late.
    decide(sessions, transfers, transfer.id, True, COUNTY_DIRECTOR)
    assert wage_case.events("transfer_approved")[0].data["late"] is True


def test_a_jurisdiction_may_set_its_own_limit(wage_case, departments, liaisons, runtime, sessions):
    transfers = DepartmentTransfers(runtime, {"150200": "3 工作日", COUNTY: "1 工作日"})
    transfer = request(sessions, transfers, wage_case, departments[INSPECTION], liaisons[MEDIATION_CENTER])
    assert (transfer.time_limit, transfer.due_at) == ("1 工作日", at(3, 3))
    with sessions() as session:
        assert session.scalar(select(DepartmentTransfer.due_at)) == at(3, 3)
