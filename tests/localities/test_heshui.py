"""合水县 (621024): the 七步 loop, 小事不出村, and 诉调/警调/访调 对接 measured per channel.

Disputes arrive from the court (诉调), 110 (警调) and the petition office (访调) through their channels
and run 合水县's variant of the 邻里纠纷 process (processes/variants/621024/): simple ones are handled
at the village, others at the township; every case is archived (办结归档) before the 回访了解, which
also checks whether an agreement was performed. The cockpit's channel groups then show each channel's
分流率, 调解成功率 (化解率), 执行到位率 and 群众吸附率 exactly.
"""
from __future__ import annotations

import pytest

from engine import channels, jurisdictions
from engine.actors import Actor, Grant
from engine.cockpit_board import board
from engine.cockpit_metrics import parse_period, rate
from engine.people import save_department
from tests.engine.scenario import CaseScenario, mediate

HESHUI, XIHUACHI, DONGGUAN = "621024", "621024100", "621024100001"
CENTERS = {HESHUI: "合水县社会治理综合服务中心", XIHUACHI: "西华池镇综治中心", DONGGUAN: "东关村综治站"}
ROLES = ("clerk", "analyst", "mediator", "director")
# One person per level would read the same; a single actor holding the roles at every level keeps the
# scenario short (acting still follows the queue: each task is taken at the center it is offered to).
STAFF = Actor("heshui.staff", frozenset(Grant(role, code) for role in ROLES for code in CENTERS), "合水县三级中心",
              HESHUI)
MANAGER = Actor.of("heshui.manager", {"manager"}, HESHUI, "合水县委政法委")
CHANNELS = {"court": ("heshui-court", "合水县人民法院诉讼服务中心"),
            "police_110": ("heshui-110", "合水县公安局110指挥中心"),
            "petition": ("heshui-petition", "合水县信访局")}


@pytest.fixture
def heshui(sessions, clock):
    """合水县 → 西华池镇 → 东关村 with their centers, and a token for each referring channel."""
    with sessions() as session:
        jurisdictions.save(session, HESHUI, "合水县", "county", None, CENTERS[HESHUI])
        session.flush()
        jurisdictions.save(session, XIHUACHI, "西华池镇", "township", HESHUI, CENTERS[XIHUACHI])
        session.flush()
        jurisdictions.save(session, DONGGUAN, "东关村", "village", XIHUACHI, CENTERS[DONGGUAN])
        save_department(session, HESHUI, "multi_mediation", "县矛盾纠纷多元化解中心", "resident")
        save_department(session, XIHUACHI, "people_mediation", "乡镇人民调解委员会", "resident")
        save_department(session, DONGGUAN, "people_mediation", "村人民调解委员会", "resident")
        tokens = {}
        for kind, (code, name) in CHANNELS.items():
            channel = channels.create_channel(session, code, name, kind, "admin", clock.now())
            tokens[kind] = channels.issue_token(session, channel, HESHUI, "admin", clock.now())[1]
        session.commit()
    return tokens


class Referral:
    """Cases one channel refers, each driven through 合水县's seven steps."""

    def __init__(self, sessions, runtime, clock, tokens, kind):
        self.sessions, self.runtime, self.clock, self.kind = sessions, runtime, clock, kind
        self.token, self.count = tokens[kind], 0

    def case(self, title: str, place: str = DONGGUAN) -> CaseScenario:
        self.count += 1
        submission = {"reference": f"{self.kind}-{self.count:03d}", "category": "neighbour", "jurisdiction": place,
                      "title": title, "facts": f"{CHANNELS[self.kind][1]}移送：{title}",
                      "applicant": {"name": "马建平", "phone": "13909340001"}, "respondent": {"name": "李秀英"}}
        with self.sessions() as session:
            principal = channels.authenticate(session, self.token, self.clock.now())
            case_id = channels.submit(session, self.runtime, principal, submission).case.id
        return CaseScenario.of(self.sessions, self.runtime, STAFF, self.clock, case_id)


def assess(complexity: str, colour: str = "黄") -> tuple:
    return ("assess", {"risk_color": colour, "complexity": complexity, "assessment": "研判"})


def seven_steps(scenario: CaseScenario, complexity: str, outcome: str, performed: bool | None = None) -> list[str]:
    """一窗接收 (the channel) → 分析研判 → 分流转办 → 分类调处 → (跟踪督办 by the timers) → 办结归档 → 回访了解;
    returns the element ids in the order they were done."""
    done = ["accept", "assess", "dispatch"]
    scenario.do_all("accept", assess(complexity))
    scenario.dispatch_as_routed()
    scenario.do("mediate", mediate(outcome))
    if outcome == "success":
        scenario.do("agreement")
        done += ["mediate", "agreement"]
    else:
        scenario.do("legal_route")
        done += ["mediate", "legal_route"]
    scenario.do("notify_result")
    assert scenario.ready() == ["archive"]  # 办结归档 comes before the 回访
    scenario.do("archive")
    follow_up = {"satisfaction": "satisfied", **({} if performed is None else {"performed": performed})}
    scenario.do("follow_up", follow_up)
    return done + ["notify_result", "archive", "follow_up"]


def test_simple_disputes_stay_in_the_village_and_others_go_to_the_township(sessions, runtime, clock, heshui):
    court = Referral(sessions, runtime, clock, heshui, "court")
    small, ordinary, grave = court.case("邻里排水沟堵塞"), court.case("宅旁空地占用"), court.case("多户围堵施工")
    for scenario, complexity, colour in ((small, "simple", "黄"), (ordinary, "ordinary", "黄"), (grave, "simple", "红")):
        scenario.do_all("accept", assess(complexity, colour))
        scenario.dispatch_as_routed()
    assert (small.case().handling_level, small.case().handling_jurisdiction_code) == ("village", DONGGUAN)
    assert small.case().department == "村人民调解委员会"
    assert (ordinary.case().handling_level, ordinary.case().handling_jurisdiction_code) == ("township", XIHUACHI)
    assert (grave.case().handling_level, grave.case().handling_jurisdiction_code) == ("county", HESHUI)


def test_the_case_is_archived_before_the_follow_up_visit_which_can_reopen_it(sessions, runtime, clock, heshui):
    police = Referral(sessions, runtime, clock, heshui, "police_110")
    case = police.case("酒后争执损坏院门")
    seven_steps_until_visit = ["accept", assess("simple"), ("mediate", mediate("success")), "agreement",
                               "notify_result", "archive"]
    case.do_all(*seven_steps_until_visit[:2])
    case.dispatch_as_routed()
    case.do_all(*seven_steps_until_visit[2:])
    assert case.case().status == "open" and case.ready() == ["follow_up"]  # archived, the 回访了解 is still due
    case.do("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "赔偿未到位"})
    case.do("second_supervision")  # 二次督办 reopens the archived case for a new mediation
    assert case.ready() == ["mediate"]
    case.do_all(("mediate", mediate("success")), "agreement", "notify_result", "archive")
    case.do("follow_up", {"satisfaction": "satisfied", "performed": True})
    assert case.case().status == "concluded" and "end_archived" in case.passed()
    order = [e.element_id for e in case.events("task_completed")]
    assert order[-3:] == ["notify_result", "archive", "follow_up"]
    assert case.case().performed is True


def test_each_referring_channel_has_its_four_metrics(sessions, runtime, clock, heshui):
    court = Referral(sessions, runtime, clock, heshui, "court")           # 诉调对接
    police = Referral(sessions, runtime, clock, heshui, "police_110")     # 警调对接
    petition = Referral(sessions, runtime, clock, heshui, "petition")     # 访调对接

    assert seven_steps(court.case("相邻通行纠纷"), "simple", "success", performed=True)[-2:] == ["archive", "follow_up"]
    seven_steps(court.case("屋檐滴水纠纷"), "ordinary", "success", performed=False)
    seven_steps(court.case("宅基地界址纠纷"), "ordinary", "failure")          # told to sue: not absorbed
    court.case("院墙裂缝纠纷").do("accept")                                      # received, not yet dispatched
    seven_steps(police.case("醉酒损坏院门"), "simple", "success", performed=True)
    seven_steps(police.case("噪音扰民纠纷"), "simple", "success", performed=True)
    petition.case("重复信访诉求").do("accept", {"accepted": False, "reject_reason": "已依法处理完毕"})
    seven_steps(petition.case("邻里积怨信访"), "ordinary", "failure")

    period = parse_period("2026-03", clock.now())
    with sessions() as session:
        groups = {g.value: g.counts for g in board(session, MANAGER, HESHUI, period, clock.now()).groups["channel"]}
    metrics = {kind: tuple(rate(groups[kind], key) for key in
                           ("dispatch_rate", "resolution_rate", "performance_rate", "absorption_rate"))
               for kind in CHANNELS}
    #                       分流率  调解成功率  执行到位率  群众吸附率
    assert metrics["court"] == (3 / 4, 2 / 3, 1 / 2, 2 / 3)
    assert metrics["police_110"] == (1.0, 1.0, 1.0, 1.0)
    assert metrics["petition"] == (1 / 2, 0.0, None, 1 / 2)  # nothing to perform: shown as —, not 0 %
