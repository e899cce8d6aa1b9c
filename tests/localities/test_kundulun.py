"""包头·昆都仑区 (150203): the 六步法 as its own neighbour process, with a fake clock.

管家接待 → 窗口分流 → 双线接办 → 函单调度 → 分析研判 → 跟踪回访 (processes/variants/150203/neighbour/):
the first two steps must be done within 15 minutes, warned at minute 12; a mediator's claimed task
passes to the named AB岗 backup while the mediator is away; a cross-department dispute goes to the
联席会议, whose opinion binds the handling that follows.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import jurisdictions, people
from engine.actors import Actor
from engine.assignment import Assignments, allowed_actions
from engine.models import HumanTask, User
from tests.conftest import ALL_ROLES
from tests.engine.scenario import CaseScenario

KUNDULUN = "150203"
STAFF = Actor.of("kdl_staff", ALL_ROLES, KUNDULUN, "昆都仑区综治中心")
LIAISON = Actor.of("kdl_liaison", frozenset({"liaison"}), KUNDULUN, "部门联络员")
SIX_STEPS = ["accept", "window_dispatch", "dual_track", "letter_dispatch", "analysis", "follow_up"]
ANSWERS = {
    "accept": {"accepted": True},
    "window_dispatch": {"handling_level": "county", "department": "区人民调解委员会"},
    "dual_track": {"mediation_outcome": "success", "mediation_record": "双方当面协商，楼上住户负责维修"},
    "letter_dispatch": {"handling_level": "county", "department": "区人民调解委员会",
                        "dispatch_note": "请于三日内完成维修并反馈"},
    "analysis": {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般邻里纠纷，已化解"},
    "follow_up": {"satisfaction": "satisfied"},
}
BINDING = {"binding_opinion": "由住建局牵头，城管局配合，十日内拆除占道违建", "lead_department": "住建局"}


@pytest.fixture
def kundulun(sessions):
    """昆都仑区's center with two mediators, 甲 naming 乙 as AB岗 backup."""
    with sessions() as session:
        jurisdictions.save(session, KUNDULUN, "昆都仑区", "county", None, "昆都仑区综治中心")
        users = {}
        for username, display_name in (("kdl_mediator_a", "昆都仑区调解员甲"), ("kdl_mediator_b", "昆都仑区调解员乙")):
            users[username] = user = User(username=username, display_name=display_name, password_hash="-",
                                          jurisdiction_code=KUNDULUN, failed_logins=0, active=True)
            session.add(user)
            people.grant(session, user, "mediator", KUNDULUN, None)
        people.set_backup(session, users["kdl_mediator_a"], "kdl_mediator_b")
        session.commit()
    return sessions


@pytest.fixture
def case(kundulun, runtime, clock):
    return CaseScenario(kundulun, runtime, STAFF, clock, jurisdiction=KUNDULUN, answers=ANSWERS)


def who(sessions, clock, username: str) -> Actor:
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return people.actor_for(session, user, clock.now())


def kinds(case: CaseScenario, element_id: str) -> list[str]:
    """The timer kinds that have fired on `element_id`, in order."""
    return [e.data.get("kind") for e in case.events("timer_fired") if e.element_id.startswith(element_id)]


def test_the_variant_runs_for_kundulun_and_the_city_keeps_the_base(case, sessions, runtime, clock, staff):
    assert case.ready() == ["accept"]
    # 九原区 (no variant of its own) runs the city's neighbour process, which is the base.
    assert CaseScenario(sessions, runtime, staff, clock, jurisdiction="150207").ready() == ["accept"]


def test_the_15_minute_acceptance_is_warned_at_minute_12_and_overdue_at_minute_15(case, clock):
    start = clock.now()
    accept = case.task("accept")
    assert (accept.deadline, accept.due_at.replace(tzinfo=None)) == \
        ("15 分钟", (start + timedelta(minutes=15)).replace(tzinfo=None))
    due = {t.element_id: t.due_at.replace(tzinfo=None) for t in case.timers()}
    assert due == {"accept_warning": (start + timedelta(minutes=12)).replace(tzinfo=None),
                   "accept_overdue": (start + timedelta(minutes=15)).replace(tzinfo=None)}

    clock.set(start + timedelta(minutes=11, seconds=59))
    case.sweep()
    assert kinds(case, "accept") == []
    clock.set(start + timedelta(minutes=12, seconds=1))
    case.sweep()
    assert kinds(case, "accept") == ["warning"]
    assert "work_reminder" in case.doc_types()  # the 工作提示函 goes out with the warning
    clock.set(start + timedelta(minutes=14, seconds=59))
    case.sweep()
    assert kinds(case, "accept") == ["warning"]  # nothing overdue at 14:59
    assert not case.case().is_overdue
    # The sweep fires a timer strictly after its due instant, as SpiffWorkflow does: the first
    # minute tick after 15:00 flags the case.
    clock.set(start + timedelta(minutes=15, seconds=1))
    case.sweep()
    assert kinds(case, "accept") == ["warning", "overdue"]
    assert case.case().is_overdue
    assert case.ready() == ["accept"]  # still the clerk's to do: 超时 is flagged, not taken away


def test_forwarding_has_its_own_15_minutes_from_acceptance(case, clock):
    clock.advance(minutes=5)
    case.do("accept")
    accepted_at = clock.now()
    forward = case.task("window_dispatch")
    assert forward.deadline == "15 分钟"
    clock.set(accepted_at + timedelta(minutes=12, seconds=1))
    case.sweep()
    clock.set(accepted_at + timedelta(minutes=15, seconds=1))
    case.sweep()
    assert kinds(case, "window_dispatch") == ["warning", "overdue"]
    case.do("window_dispatch")
    assert case.ready() == ["dual_track"]


def test_the_six_steps_run_in_order_to_the_end(case, clock):
    done = []
    for step in SIX_STEPS:
        assert case.ready() == [step], f"after {done}"
        case.do(step)
        done.append(step)
        clock.advance(minutes=10)
    concluded = case.case()
    assert concluded.status == "concluded"
    assert not concluded.is_overdue  # each 15-minute step done in 10
    completed = [e.element_id for e in case.events("task_completed")]
    assert completed == SIX_STEPS
    # 受理告知单 on acceptance, 转送交办单 at 窗口分流 and at 函单调度, 结果告知单 before 回访.
    assert case.doc_types() == ["acceptance_notice", "transfer_order", "transfer_order", "result_notice"]


def test_a_visitor_turned_away_at_reception_ends_the_case(case):
    case.do("accept", {"accepted": False, "reject_reason": "不属于矛盾纠纷，已引导至12345"})
    assert case.case().status == "terminated"
    assert "end_rejected" in case.passed()


def test_a_dissatisfied_follow_up_sends_the_case_back_to_the_two_lines(case):
    case.do_all(*SIX_STEPS[:-1])
    case.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "维修未完成"})
    case.do("second_supervision", {"supervision_instructions": "三日内完成维修"})
    assert case.ready() == ["dual_track"]
    case.do_all(*SIX_STEPS[2:])
    assert case.case().status == "concluded"


def test_ab_backup_completes_the_two_line_handling_while_a_is_away(case, kundulun, clock):
    case.do_all("accept", "window_dispatch")
    task_id = case.task("dual_track").id
    assignments = Assignments(clock)
    with kundulun() as session:
        assignments.claim(session, task_id, who(kundulun, clock, "kdl_mediator_a"))
    b = who(kundulun, clock, "kdl_mediator_b")
    with kundulun() as session:
        assert allowed_actions(session.get(HumanTask, task_id), b) == []  # A is at work: hands off

    with kundulun() as session:
        people.set_absence(session.scalars(select(User).where(User.username == "kdl_mediator_a")).one(),
                           clock.now() + timedelta(days=2))
        session.commit()
    b = who(kundulun, clock, "kdl_mediator_b")
    assert b.standing_in_for == {"kdl_mediator_a"}
    case.do("dual_track", actor=b)

    completed = case.events("task_completed")[-1]
    assert (completed.element_id, completed.actor) == ("dual_track", "kdl_mediator_b")
    assert completed.data["_on_behalf_of"] == "kdl_mediator_a"
    assert "AB岗：代 kdl_mediator_a 办理" in completed.summary
    with kundulun() as session:
        assert session.get(HumanTask, task_id).completed_by == "kdl_mediator_b"
    assert case.ready() == ["letter_dispatch"]


def test_a_cross_department_dispute_goes_to_the_joint_meeting_whose_opinion_binds(case):
    case.do_all("accept", "window_dispatch", "dual_track", "letter_dispatch")
    case.do("analysis", {"risk_color": "橙", "complexity": "complex", "assessment": "占道违建涉及住建、城管两部门",
                         "joint_meeting": True, "meeting_departments_text": "住建局、城管局"})
    opinions = case.ready_tasks()
    assert sorted(t.name for t in opinions) == ["部门意见（住建局）", "部门意见（城管局）"]
    for task in opinions:
        with case.sessions() as session:
            case.runtime.complete_task(session, task.id, {"opinion": f"{task.name}：同意", "agrees": True},
                                        LIAISON)
    case.do("binding_opinion", BINDING)

    # Binding: the lead department named by the meeting takes the case, with the order in hand …
    assert "adopt_binding_opinion" in case.passed()
    bound = case.case()
    assert (bound.department, bound.data["lead_department"]) == ("住建局", "住建局")
    order = case.documents()[-1]
    assert order.doc_type == "transfer_order" and BINDING["binding_opinion"] in order.html
    # … the handling starts again on both lines, and the next 函单调度 carries the opinion.
    assert case.ready() == ["dual_track"]
    case.do("dual_track")
    letter = case.task("letter_dispatch")
    assert letter.form_defaults["department"] == "住建局"
    assert letter.form_defaults["dispatch_note"] == "联席会议意见：" + BINDING["binding_opinion"]
    case.do("letter_dispatch", {"handling_level": "county", "department": "住建局",
                                "dispatch_note": letter.form_defaults["dispatch_note"]})
    # One meeting per case: a second 研判 asking again goes on to the result.
    case.do("analysis", {"risk_color": "黄", "complexity": "ordinary", "assessment": "已按会议意见拆除",
                         "joint_meeting": True, "meeting_departments": ["住建局", "城管局"]})
    assert case.ready() == ["follow_up"]
    notice = [d for d in case.documents() if d.doc_type == "result_notice"][-1]
    assert BINDING["binding_opinion"] in notice.html  # the result records the binding opinion
    case.do("follow_up")
    done = case.case()
    assert done.status == "concluded" and done.data["joint_meeting_count"] == 1
    assert [o["department"] for o in done.data["department_opinions"]] == ["住建局", "城管局"]
