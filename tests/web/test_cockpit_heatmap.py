"""流程热力图 and a case's 流程图 over HTTP: 九原区 registers three neighbour disputes on 2 March 2026; the
clerk accepts two of them, two and three hours later. 九原区's 政法委 manager opens the heatmap of 邻里纠纷
for March: 受理 has one case waiting and took 2.5 hours at the median, 2.9 at P90; 研判 has two waiting.
The table, the overlay badges and the engine's heatmap() agree. On the accepted case's page the diagram
marks 受理 as done and 研判 as current."""
from __future__ import annotations

import html as html_lib
import json
import re
from datetime import timedelta

import pytest

from engine.cockpit_heatmap import heatmap
from engine.cockpit_metrics import parse_period
from engine.models import Case, ProcessVersion, User
from engine.people import actor_for
from tests.web.conftest import add_user
from web.extensions import db
from web.services import services

PAGE = "/cockpit/heatmap?category=neighbour&scope=150207&period=2026-03"
TIMERS = "/cockpit/timers?category=neighbour&scope=150207"


def embedded(page: str, element_id: str):
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    assert found, f"#{element_id} is not on the page"
    return json.loads(found.group(1))


def table_row(page: str, element_id: str) -> dict[str, str]:
    row = re.search(rf'<tr id="node-{element_id}" .*?</tr>', page, re.S)
    assert row, f"no table row for {element_id}"
    cells = dict(re.findall(r'<td class="(waiting|completed|median|p90)">(.*?)</td>', row.group(0), re.S))
    return {key: re.sub(r"<[^>]+>", "", value).strip() for key, value in cells.items()} | {"html": row.group(0)}


@pytest.fixture
def accepted(app, login, register, act, clock):
    """Three cases; the first two accepted after 2 and 3 hours. Returns the case ids."""
    with app.app_context():
        add_user("zfw", "钱政法", ["manager"], "150207")
        db.session.commit()
    clerk = act.client("clerk")
    case_ids = [register(clerk) for _ in range(3)]
    clock.advance(timedelta(hours=2))
    act("clerk", case_ids[0], "accept", {"accepted": "true"})  # 2 hours; the fixture then adds one
    act("clerk", case_ids[1], "accept", {"accepted": "true"})  # 3 hours
    return case_ids


def test_the_table_and_the_overlays_carry_the_engine_numbers(app, login, accepted):
    response = login("zfw").get(PAGE)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    with app.app_context():
        actor = actor_for(db.session, db.session.query(User).filter_by(username="zfw").one(), services().clock.now())
        now = services().clock.now()
        expected = heatmap(db.session, actor, "neighbour", "150207", parse_period("2026-03", now), now)
    assert {key: (node.waiting, node.completed) for key, node in expected.items()} == {
        "accept": (1, 2), "assess": (2, 0)}
    for element_id, node in expected.items():
        row = table_row(page, element_id)
        assert row["waiting"] == str(node.waiting)
        assert row["completed"] == str(node.completed)
        assert row["median"] == ("—" if node.median_hours is None else f"{node.median_hours:.1f}")
        assert row["p90"] == ("—" if node.p90_hours is None else f"{node.p90_hours:.1f}")
        link = re.search(r'<a class="cockpit-number" href="([^"]+)" data-count="(\d+)">', row["html"])
        assert html_lib.unescape(link.group(1)) == TIMERS and int(link.group(2)) == node.waiting
    assert table_row(page, "accept")["median"] == "2.5" and table_row(page, "accept")["p90"] == "2.9"
    assert table_row(page, "mediate") == {"waiting": "0", "completed": "0", "median": "—", "p90": "—",
                                          "html": table_row(page, "mediate")["html"]}  # on the diagram, not measured

    overlays = {node["id"]: node for node in embedded(page, "heatmap-overlays")["nodes"]}
    assert overlays["accept"]["badge"] == "等待 1 · 中位 2.5 小时 · P90 2.9 小时"
    assert overlays["assess"]["badge"] == "等待 2 · 中位 — · P90 —"
    assert overlays["accept"]["level"] == 4 and overlays["assess"]["level"] == 0  # coloured by P90: accept is the top
    assert overlays["accept"]["timers_href"] == TIMERS
    assert 'id="accept"' in embedded(page, "heatmap-diagram")  # the BPMN of the version in force


def test_colouring_by_waiting_ranks_the_two_waiting_nodes(login, accepted):
    page = login("zfw").get(PAGE + "&heat=waiting").get_data(as_text=True)
    overlays = {node["id"]: node for node in embedded(page, "heatmap-overlays")["nodes"]}
    assert (overlays["assess"]["level"], overlays["accept"]["level"], overlays["mediate"]["level"]) == (4, 2, 0)
    assert "最高：2 件" in page and "中等：1 件" in page and "较低" not in page


def test_the_cockpit_links_to_the_heatmap(login, accepted):
    page = login("zfw").get("/cockpit?scope=150207&period=2026-03").get_data(as_text=True)
    assert 'href="/cockpit/heatmap?scope=150207&amp;period=2026-03"' in page


@pytest.mark.parametrize("username, url, status, message", [
    ("clerk", PAGE, 403, None),
    ("zfw", "/cockpit/heatmap?category=neighbour&scope=150203&period=2026-03", 403, "不在您的管辖范围内"),
    ("zfw", "/cockpit/heatmap?category=no_such_kind&scope=150207", 404, "纠纷类别“no_such_kind”不存在"),
    ("zfw", PAGE + "&heat=colour", 400, "着色依据“colour”无法识别"),
    ("zfw", "/cockpit/heatmap?category=neighbour&period=2026-13", 400, "统计周期“2026-13”无法识别"),
])
def test_who_and_what_the_heatmap_refuses(login, accepted, username, url, status, message):
    response = login(username).get(url)
    assert response.status_code == status
    if message:
        assert message in response.get_data(as_text=True)


def test_a_case_page_marks_where_the_case_has_been_and_is(login, accepted):
    page = login("clerk").get(f"/cases/{accepted[0]}").get_data(as_text=True)
    assert embedded(page, "case-path-markers") == {"done": ["accept"], "current": ["assess"]}
    assert 'id="accept"' in embedded(page, "case-path-diagram")
    assert re.search(r'<dd id="case-path-done">受理审查</dd>', page)
    assert re.search(r'<dd id="case-path-current">分析研判</dd>', page)


def test_a_case_on_a_version_whose_text_is_not_stored_says_so(app, login, accepted):
    with app.app_context():
        case = db.session.get(Case, accepted[2])
        current = db.session.get(ProcessVersion, case.process_version_id)
        other = db.session.query(ProcessVersion).filter(ProcessVersion.category_code == "consumer").first()
        # A neighbour version whose spec no longer matches processes/ and was never kept by a draft.
        lost = ProcessVersion(category_code="neighbour", jurisdiction_code="150207", number=99,
                              spec_hash=other.spec_hash, category_name=current.category_name, source="files",
                              published_by="system", published_at=current.published_at, reason="旧版本")
        db.session.add(lost)
        db.session.flush()
        case.process_version_id = lost.id
        db.session.commit()
    page = login("clerk").get(f"/cases/{accepted[2]}").get_data(as_text=True)
    assert "本案所用流程版本的 BPMN 文本未保存，无法显示流程图。" in page
    assert 'id="case-path-diagram"' not in page
    # Without the diagram the lists still tell, with the names the category defines now.
    assert re.search(r'<dd id="case-path-done">—</dd>', page)
    assert re.search(r'<dd id="case-path-current">受理审查</dd>', page)
