"""鄂尔多斯·达拉特旗·工业街道 (150621001), seed 003: 收集 → 研判 → 处置 → 反馈, handled at four tiers —
微事 小区物业/业委会, 小事 网格员, 大事 社区, 难事 街道综治中心 — chosen by the 研判 (tier.dmn) and
climbing tier by tier when a tier cannot resolve it. Every scenario runs on a fake clock."""
from __future__ import annotations

import pytest

from engine.errors import Forbidden
from engine.projection import case_data
from tests.engine.scenario import CaseScenario
from tests.localities import dalate
from tests.localities.dalate import GONGYE, JINXIU

GRID = JINXIU + "001"
PROPERTY = "小区物业（业主委员会）"
INTAKE = {"title": "楼上装修噪音扰民", "summary": "楼上夜间装修，楼下多次协商未果。", "channel": "walk_in",
          "people_count": 2, "applicant_name": "赵敏", "applicant_phone": "13904771234", "respondent_name": "钱亮"}
SIMPLE = {"risk_color": "蓝", "complexity": "simple", "assessment": "邻里噪音，小区层面可解决"}
HIGH_RISK = {"risk_color": "橙", "complexity": "complex", "assessment": "涉及整栋楼居民，情绪激烈"}
UNRESOLVED = {"tier_outcome": "unresolved", "handling_record": "双方分歧较大，未能化解"}
RESOLVED = {"tier_outcome": "resolved", "handling_record": "双方达成一致，约定施工时间"}


@pytest.fixture
def people(sessions, clock):
    dalate.build(sessions)
    property_id = dalate.department(sessions, JINXIU, "property", PROPERTY)
    return {
        "jinxiu.clerk": dalate.user(sessions, clock, "jinxiu.clerk", ("clerk", "analyst"), JINXIU),
        "jinxiu.property": dalate.user(sessions, clock, "jinxiu.property", ("liaison",), JINXIU,
                                       department_id=property_id),
        "jinxiu.mediator": dalate.user(sessions, clock, "jinxiu.mediator", ("mediator",), JINXIU),
        "grid": dalate.user(sessions, clock, "jinxiu001.grid_worker", ("grid_worker",), GRID),
        "gongye.clerk": dalate.user(sessions, clock, "gongye.clerk", ("clerk", "analyst"), GONGYE),
        "gongye.mediator": dalate.user(sessions, clock, "gongye.mediator", ("mediator",), GONGYE),
        "gongye.director": dalate.user(sessions, clock, "gongye.director", ("director",), GONGYE),
    }


def collected(sessions, runtime, clock, actor, place) -> CaseScenario:
    return CaseScenario(sessions, runtime, actor, clock, jurisdiction=place, intake=dict(INTAKE))


def test_a_hard_case_lands_at_the_street_center(sessions, runtime, clock, people):
    case = collected(sessions, runtime, clock, people["jinxiu.clerk"], JINXIU)
    case.do("accept")
    case.do("assess", HIGH_RISK)
    task = case.task("center_mediate")
    assert (task.jurisdiction_code, task.role, task.name) == (GONGYE, "mediator", "街道综治中心统筹（难事）")
    assert case.case().handling_jurisdiction_code == GONGYE
    assert [e.data["to"] for e in case.events("case_transferred")] == [GONGYE]
    with pytest.raises(Forbidden):  # the community's mediator does not do the street's work
        case.do("center_mediate", RESOLVED, actor=people["jinxiu.mediator"])
    case.do("center_mediate", RESOLVED, actor=people["gongye.mediator"])
    case.do("notify_result", actor=people["gongye.clerk"])
    case.do("follow_up", actor=people["gongye.clerk"])
    case.do("archive", actor=people["gongye.clerk"])
    assert case.case().status == "concluded"
    assert "result_notice" in case.doc_types()


def test_a_micro_case_climbs_tier_by_tier_to_the_street(sessions, runtime, clock, people):
    # A grid worker collects it in the grid; the community station accepts and judges it.
    case = collected(sessions, runtime, clock, people["grid"], GRID)
    assert case.case().handling_jurisdiction_code == JINXIU
    case.do("accept", actor=people["jinxiu.clerk"])
    case.do("assess", SIMPLE, actor=people["jinxiu.clerk"])

    micro = case.task("property_handle")  # 微事: the 小区's property company / owners' committee
    assert (micro.role, micro.jurisdiction_code, micro.department_id is not None) == ("liaison", JINXIU, True)
    case.do("property_handle", UNRESOLVED, actor=people["jinxiu.property"])

    small = case.task("grid_handle")  # 小事: the grid's own 网格员
    assert (small.role, small.jurisdiction_code) == ("grid_worker", GRID)
    case.do("grid_handle", UNRESOLVED, actor=people["grid"])

    major = case.task("community_mediate")  # 大事: the 社区
    assert (major.role, major.jurisdiction_code) == ("mediator", JINXIU)
    assert case.case().handling_jurisdiction_code == JINXIU
    case.do("community_mediate", UNRESOLVED, actor=people["jinxiu.mediator"])

    hard = case.task("center_mediate")  # 难事: the 街道综治中心
    assert hard.jurisdiction_code == GONGYE and case.case().handling_jurisdiction_code == GONGYE
    assert case_data(case.workflow())["tier_climbs"] == 3
    # The street cannot resolve it either: the legal route, 反馈, and a dissatisfied 回访 sends it back
    # to the street once (二次督办) before it is archived.
    mediator, clerk = people["gongye.mediator"], people["gongye.clerk"]
    case.do("center_mediate", UNRESOLVED, actor=mediator)
    case.do("legal_route", actor=mediator)
    case.do("notify_result", actor=clerk)
    case.do("follow_up", {"satisfaction": "dissatisfied"}, actor=clerk)
    case.do("second_supervision", actor=people["gongye.director"])
    case.do("center_mediate", RESOLVED, actor=mediator)
    case.do("notify_result", actor=clerk)
    case.do("follow_up", actor=clerk)
    case.do("archive", actor=clerk)
    assert case.case().status == "concluded"
    assert {"mediation_termination", "legal_route", "transfer_order"} <= set(case.doc_types())


@pytest.mark.parametrize("assessment, element_id, where", [
    ({"risk_color": "黄", "complexity": "ordinary", "assessment": "一般纠纷"}, "grid_handle", JINXIU),
    ({"risk_color": "黄", "complexity": "complex", "assessment": "多方利益"}, "community_mediate", JINXIU),
    ({"risk_color": "红", "complexity": "simple", "assessment": "有极端苗头"}, "center_mediate", GONGYE),
])
def test_the_tier_table_picks_the_tier_from_the_assessment(sessions, runtime, clock, people, assessment,
                                                           element_id, where):
    case = collected(sessions, runtime, clock, people["jinxiu.clerk"], JINXIU)
    case.do("accept")
    case.do("assess", assessment)
    assert case.ready() == [element_id]
    assert case.task(element_id).jurisdiction_code == where


def test_a_resolved_small_case_ends_at_the_community(sessions, runtime, clock, people):
    case = collected(sessions, runtime, clock, people["grid"], GRID)
    case.do("accept", actor=people["jinxiu.clerk"])
    case.do("assess", {"risk_color": "蓝", "complexity": "ordinary", "assessment": "小事"}, actor=people["jinxiu.clerk"])
    case.do("grid_handle", RESOLVED, actor=people["grid"])
    assert case.ready() == ["notify_result"]
    assert case.case().handling_jurisdiction_code == JINXIU


def test_a_rejected_collection_ends(sessions, runtime, clock, people):
    case = collected(sessions, runtime, clock, people["jinxiu.clerk"], JINXIU)
    case.do("accept", {"accepted": False, "reject_reason": "不属于矛盾纠纷"})
    assert case.case().status == "terminated"
