"""鄂尔多斯·达拉特旗·白泥井镇 (150621100), seed 003: 简易纠纷村综治站调解、复杂纠纷镇综治中心联动调;
村周研判、镇月研判; 跟踪回访按“谁调解、谁负责”. Each scenario runs on a fake clock."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import analysis_meetings
from engine.calendar import SHANGHAI
from engine.errors import ConflictError, Forbidden, NotFound
from engine.models import AnalysisMeeting, User
from tests.engine.scenario import CaseScenario, end_of_day, mediate
from tests.localities import dalate
from tests.localities.dalate import BAINIJING, HOUJIAYINGZI, JINXIU, WANGQINGHE

SIMPLE = {"risk_color": "黄", "complexity": "simple", "assessment": "地界小纠纷，事实清楚"}
COMPLEX = {"risk_color": "黄", "complexity": "complex", "assessment": "土地承包涉及多户，需镇联动"}
ORANGE_SIMPLE = {"risk_color": "橙", "complexity": "simple", "assessment": "事小但情绪激烈"}
RED = {"risk_color": "红", "complexity": "complex", "assessment": "群体性风险"}


@pytest.fixture
def people(sessions, clock):
    dalate.build(sessions)
    staff = {}
    for place, prefix in ((HOUJIAYINGZI, "houjiayingzi"), (WANGQINGHE, "wangqinghe"), (BAINIJING, "bainijing"),
                          (JINXIU, "jinxiu")):
        staff[f"{prefix}.clerk"] = dalate.user(sessions, clock, f"{prefix}.clerk", ("clerk", "analyst"), place)
        staff[f"{prefix}.mediator"] = dalate.user(sessions, clock, f"{prefix}.mediator", ("mediator",), place)
        staff[f"{prefix}.director"] = dalate.user(sessions, clock, f"{prefix}.director", ("director",), place)
    return staff


def register(sessions, runtime, clock, people, village_prefix: str, place: str, title: str) -> CaseScenario:
    intake = {"title": title, "summary": f"{title}，双方争执不下。", "channel": "walk_in", "people_count": 2,
              "applicant_name": "王二", "applicant_phone": "13904770001", "respondent_name": "刘三"}
    return CaseScenario(sessions, runtime, people[f"{village_prefix}.clerk"], clock, jurisdiction=place,
                        intake=intake)


def test_simple_dispute_stays_at_the_village_and_its_mediator_does_the_follow_up(sessions, runtime, clock, people):
    case = register(sessions, runtime, clock, people, "houjiayingzi", HOUJIAYINGZI, "两户地界纠纷")
    case.do("accept")
    case.do("assess", SIMPLE)
    proposal = case.task("dispatch").form_defaults
    assert proposal["handling_level"] == "village"
    dispatch_as_routed(case, people["houjiayingzi.director"])
    assert case.case().handling_jurisdiction_code == HOUJIAYINGZI
    mediator = people["houjiayingzi.mediator"]
    case.do("mediate", mediate("success"), actor=mediator)
    case.do("agreement", actor=mediator)
    case.do("notify_result")

    follow_up = case.task("follow_up")
    assert (follow_up.claimed_by, follow_up.role, follow_up.jurisdiction_code) == (
        "houjiayingzi.mediator", "mediator", HOUJIAYINGZI)
    assert [e.data["mediator"] for e in case.events("follow_up_to_mediator")] == ["houjiayingzi.mediator"]
    case.do("follow_up", actor=mediator)
    case.do("archive")
    assert case.case().status == "concluded"


def test_complex_dispute_goes_to_the_township_center(sessions, runtime, clock, people):
    case = register(sessions, runtime, clock, people, "wangqinghe", WANGQINGHE, "土地承包经营权纠纷")
    case.do("accept")
    case.do("assess", COMPLEX)
    assert dispatch_as_routed(case, people["wangqinghe.director"])["handling_level"] == "township"
    assert case.case().handling_jurisdiction_code == BAINIJING
    assert case.task("mediate").jurisdiction_code == BAINIJING
    case.do("mediate", mediate("success"), actor=people["bainijing.mediator"])
    case.do("agreement", actor=people["bainijing.mediator"])
    case.do("notify_result", actor=people["bainijing.clerk"])
    assert case.task("follow_up").claimed_by == "bainijing.mediator"


@pytest.mark.parametrize("assessment, level", [(ORANGE_SIMPLE, "township"), (RED, "county")])
def test_orange_and_red_disputes_leave_the_village_even_when_simple(sessions, runtime, clock, people,
                                                                   assessment, level):
    case = register(sessions, runtime, clock, people, "houjiayingzi", HOUJIAYINGZI, "灌溉用水纠纷")
    case.do("accept")
    case.do("assess", assessment)
    assert case.task("dispatch").form_defaults["handling_level"] == level


def test_follow_up_stays_in_the_queue_when_the_mediator_is_away(sessions, runtime, clock, people):
    case = register(sessions, runtime, clock, people, "houjiayingzi", HOUJIAYINGZI, "牲畜踩踏庄稼")
    case.do("accept")
    case.do("assess", SIMPLE)
    dispatch_as_routed(case, people["houjiayingzi.director"])
    case.do("mediate", mediate("success"), actor=people["houjiayingzi.mediator"])
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == "houjiayingzi.mediator")).one()
        user.absent_until = clock.now() + timedelta(days=10)
        session.commit()
    case.do("agreement", actor=people["houjiayingzi.mediator"])
    case.do("notify_result")
    follow_up = case.task("follow_up")
    assert (follow_up.claimed_by, follow_up.role) == (None, "clerk")
    assert [e.data["claimed"] for e in case.events("follow_up_to_mediator")] == [False]


def test_follow_up_is_not_redirected_where_the_switch_is_off(sessions, runtime, clock, people):
    # 工业街道 (same county, no follow_up_by_mediator): the 社区 mediator handles a 大事, the 回访 stays
    # with the window as the process declares it.
    case = register(sessions, runtime, clock, people, "jinxiu", JINXIU, "楼道堆物纠纷")
    case.do("accept")
    case.do("assess", {"risk_color": "黄", "complexity": "complex", "assessment": "多户参与"})
    case.do("community_mediate", {"tier_outcome": "resolved", "handling_record": "已清理"},
            actor=people["jinxiu.mediator"])
    case.do("notify_result")
    assert (case.task("follow_up").claimed_by, case.task("follow_up").role) == (None, "clerk")
    assert not case.events("follow_up_to_mediator")


def test_village_weekly_and_township_monthly_meetings_gather_the_open_cases_once(sessions, runtime, clock, people):
    # Sunday evening: two open cases in 侯家营子村, one in 王庆河村, one closed, one in 工业街道.
    clock.set(datetime(2026, 3, 1, 20, 0, tzinfo=SHANGHAI))
    first = register(sessions, runtime, clock, people, "houjiayingzi", HOUJIAYINGZI, "地界纠纷一")
    second = register(sessions, runtime, clock, people, "houjiayingzi", HOUJIAYINGZI, "地界纠纷二")
    third = register(sessions, runtime, clock, people, "wangqinghe", WANGQINGHE, "用水纠纷")
    closed = register(sessions, runtime, clock, people, "wangqinghe", WANGQINGHE, "已不予受理")
    closed.do("accept", {"accepted": False, "reject_reason": "不属于受理范围"})
    elsewhere = register(sessions, runtime, clock, people, "jinxiu", JINXIU, "工业街道的纠纷")
    assert closed.case().status == "terminated"

    # Monday 2 March 2026 00:01, Beijing: a new week and a new month.
    clock.set(datetime(2026, 3, 2, 0, 1, tzinfo=SHANGHAI))
    assert analysis_meetings.run_due(sessions, runtime) == 3
    assert analysis_meetings.run_due(sessions, runtime) == 0  # idempotent
    clock.advance(hours=30)
    assert analysis_meetings.run_due(sessions, runtime) == 0  # still the same week
    meetings = _meetings(sessions)
    assert {(m.jurisdiction_code, m.every): sorted(m.case_ids) for m in meetings} == {
        (HOUJIAYINGZI, "week"): sorted([first.case_id, second.case_id]),
        (WANGQINGHE, "week"): [third.case_id],
        (BAINIJING, "month"): sorted([first.case_id, second.case_id, third.case_id]),
    }
    assert elsewhere.case_id not in {i for m in meetings for i in m.case_ids}
    weekly = next(m for m in meetings if m.jurisdiction_code == HOUJIAYINGZI)
    assert weekly.title == "侯家营子村村周研判（2026-03-02 起）"
    assert weekly.due_at == end_of_day(2026, 3, 4)  # two working days after Monday's start
    assert [m.title for m in meetings if m.every == "month"] == ["白泥井镇镇月研判（2026年3月）"]

    # Next Monday: only the villages meet again, with the cases open then.
    third.do("accept", {"accepted": False, "reject_reason": "已自行和解"})
    clock.set(datetime(2026, 3, 9, 0, 0, 30, tzinfo=SHANGHAI))
    assert analysis_meetings.run_due(sessions, runtime) == 2
    new = {m.jurisdiction_code: m.case_ids for m in _meetings(sessions) if str(m.period_start) == "2026-03-09"}
    assert new == {HOUJIAYINGZI: sorted([first.case_id, second.case_id]), WANGQINGHE: []}
    # 1 April (a Wednesday), after the job was down for three weeks: the township's April meeting and
    # the villages' meetings of the current week (30 March); weeks that passed unseen are not made up.
    clock.set(datetime(2026, 4, 1, 0, 5, tzinfo=SHANGHAI))
    assert analysis_meetings.run_due(sessions, runtime) == 3
    assert analysis_meetings.run_due(sessions, runtime) == 0
    assert sorted({str(m.period_start) for m in _meetings(sessions)}) == ["2026-03-01", "2026-03-02", "2026-03-09",
                                                                         "2026-03-30", "2026-04-01"]


def test_completing_a_meeting_records_an_opinion_per_case_once(sessions, runtime, clock, people):
    clock.set(datetime(2026, 3, 1, 20, 0, tzinfo=SHANGHAI))
    first = register(sessions, runtime, clock, people, "houjiayingzi", HOUJIAYINGZI, "地界纠纷一")
    second = register(sessions, runtime, clock, people, "houjiayingzi", HOUJIAYINGZI, "地界纠纷二")
    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI))
    analysis_meetings.run_due(sessions, runtime)
    weekly = next(m for m in _meetings(sessions) if m.jurisdiction_code == HOUJIAYINGZI)
    analyst = people["houjiayingzi.clerk"]

    with sessions() as session:
        assert [m.id for m in analysis_meetings.meetings_for(session, analyst, state="open")] == [weekly.id]
        # Another village's analyst neither sees nor completes it; the township's director may.
        with pytest.raises(NotFound):
            analysis_meetings.get_meeting(session, people["wangqinghe.clerk"], weekly.id)
        assert not analysis_meetings.may_complete(people["houjiayingzi.mediator"], weekly)
        assert analysis_meetings.may_complete(people["bainijing.director"], weekly)
        with pytest.raises(Forbidden):
            analysis_meetings.complete_meeting(session, weekly.id, people["houjiayingzi.mediator"],
                                               {}, "纪要", clock.now())
        with pytest.raises(analysis_meetings.MeetingError, match=f"case {second.case_id}"):
            analysis_meetings.complete_meeting(session, weekly.id, analyst, {first.case_id: "继续村级调解"},
                                               "纪要", clock.now())
    clock.advance(hours=2)
    opinions = {first.case_id: "事实清楚，继续村级调解", second.case_id: "涉及承包合同，建议报镇联动"}
    with sessions() as session:
        done = analysis_meetings.complete_meeting(session, weekly.id, analyst, opinions,
                                                  "本周两件在办，一件建议上报", clock.now())
        assert (done.state, done.completed_by) == ("completed", "houjiayingzi.clerk")
    with sessions() as session, pytest.raises(ConflictError):
        analysis_meetings.complete_meeting(session, weekly.id, analyst, opinions, "再次提交", clock.now())
    assert [e.data["opinion"] for e in first.events("analysis_opinion")] == ["事实清楚，继续村级调解"]
    assert [e.data["opinion"] for e in second.events("analysis_opinion")] == ["涉及承包合同，建议报镇联动"]
    assert sorted(e.summary for e in first.events("analysis_meeting_listed")) == [
        "列入侯家营子村村周研判（2026-03-02 起）", "列入白泥井镇镇月研判（2026年3月）"]


def dispatch_as_routed(case: CaseScenario, director) -> dict:
    """分流转办 by the registering station's director, accepting the routing table's proposal."""
    proposal = case.task("dispatch").form_defaults
    case.do("dispatch", {"handling_level": proposal["handling_level"], "department": proposal["department"]},
            actor=director)
    return proposal


def _meetings(sessions) -> list[AnalysisMeeting]:
    with sessions() as session:
        return list(session.scalars(select(AnalysisMeeting).order_by(AnalysisMeeting.id)))
