"""包头市 (150200): the city's 四色预警 (红橙黄蓝) holds in every district without its own scheme — 九原区
inherits it — while 东河区 runs five colours (绿 for disputes judged stable); the city's managers see
every district's cases, a district sees only its own.

Configuration: processes/variants/150200/variant.toml and 150202/variant.toml (`risk_colours`).
"""
from __future__ import annotations

from datetime import date

import pytest

from engine import jurisdictions, queries
from engine.actors import Actor
from engine.cockpit_board import board
from engine.cockpit_metrics import month_of
from engine.forms import FormInvalid
from tests.engine.scenario import CaseScenario

CITY, JIUYUAN, DONGHE = "150200", "150207", "150202"
HANDLING = {"clerk", "analyst", "mediator", "director"}
GREEN = {"risk_color": "绿", "complexity": "simple", "assessment": "双方已当面说清，纠纷趋于平稳"}


@pytest.fixture
def city(sessions, runtime, clock):
    with sessions() as session:
        jurisdictions.save(session, CITY, "包头市", "city", None, "包头市综治中心")
        session.flush()
        jurisdictions.save(session, JIUYUAN, "九原区", "county", CITY, "九原区综治中心")
        jurisdictions.save(session, DONGHE, "东河区", "county", CITY, "东河区综治中心")
        session.commit()
    jiuyuan = CaseScenario(sessions, runtime, Actor.of("jy.staff", HANDLING, JIUYUAN), clock, jurisdiction=JIUYUAN)
    donghe = CaseScenario(sessions, runtime, Actor.of("dh.staff", HANDLING, DONGHE), clock, jurisdiction=DONGHE)
    for case in (jiuyuan, donghe):
        case.do("accept")
    return jiuyuan, donghe


def offered_colours(sessions, runtime, scenario) -> list[str]:
    with sessions() as session:
        bundle = runtime.bundle(session, scenario.case())
    return [option["const"] for option in bundle.forms["assess"]["properties"]["risk_color"]["oneOf"]]


def test_jiuyuan_inherits_the_citys_four_colours_and_donghe_runs_five(city, sessions, runtime):
    jiuyuan, donghe = city
    assert offered_colours(sessions, runtime, jiuyuan) == ["红", "橙", "黄", "蓝"]
    assert offered_colours(sessions, runtime, donghe) == ["红", "橙", "黄", "蓝", "绿"]

    with pytest.raises(FormInvalid):  # 绿 is no colour at 九原区
        jiuyuan.do("assess", GREEN)
    assert jiuyuan.ready() == ["assess"]
    donghe.do("assess", GREEN)
    assert donghe.case().risk_color == "绿"
    jiuyuan.do("assess", {**GREEN, "risk_color": "蓝"})
    assert jiuyuan.case().risk_color == "蓝"


def test_the_city_sees_every_districts_cases_and_a_district_only_its_own(city, sessions, clock):
    jiuyuan, donghe = city
    city_manager = Actor.of("bt.manager", {"manager"}, CITY, "包头市政法委")
    donghe_director = Actor.of("dh.director", {"director"}, DONGHE, "东河区综治中心主任")
    with sessions() as session:
        assert {c.id for c in queries.case_list(session, city_manager)} == {jiuyuan.case_id, donghe.case_id}
        assert [c.id for c in queries.case_list(session, donghe_director)] == [donghe.case_id]
        city_board = board(session, city_manager, CITY, month_of(date(2026, 3, 1)), clock.now())
        received = {g.label: g.counts["received"] for g in city_board.groups["place"]}
        assert received == {"九原区": 1, "东河区": 1}
        assert city_board.totals["received"] == 2
