"""节点计时 over HTTP on Friday 3 April 2026, 21:00 in 九原区: a 邻里 mediation dispatched on 2 March is past
its 30 日, a dispute registered on 9 March was never accepted, an assessment has passed its warning
and a registration has just come in. 九原区's 政法委 manager lists them by due time or by time spent,
filters the overdue ones, pages through a busy county, and sends a 工作提示函 and a 督办函 from the
list with the page's CSRF token; a clerk may not, and 昆都仑区 cannot reach 九原区's tasks."""
from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine import jurisdictions
from engine.actors import Actor
from engine.models import Case, CaseDocument, CaseEvent
from tests.engine.scenario import INTAKE, CaseScenario
from tests.web.conftest import PASSWORD, add_user
from tests.web.test_csrf import token_of
from web.extensions import db

JIUYUAN = "150207"
STAFF = Actor.of("staff", {"clerk", "analyst", "director", "mediator"}, JIUYUAN, "九原区综治中心")
ROW = re.compile(r'<tr id="timer-([0-9a-f-]+)" class="[^"]*" data-state="(\w+)">\s*<td><a href="/cases/(\d+)">')
INSTRUCTIONS = "请于三日内重新组织调处并书面报告。"


def build_desk(app) -> dict[str, CaseScenario]:
    """The four cases by name; the clock ends on Friday 3 April, 21:00."""
    clock = app.config["CLOCK"]
    with app.app_context():
        jurisdictions.save(db.session, JIUYUAN, "九原区", "county", None, "九原区综治中心")
        add_user("zfw", "钱政法", ["manager"], JIUYUAN)
        db.session.commit()
        sessions = sessionmaker(bind=db.engine, expire_on_commit=False)
    runtime = app.extensions["fengqiao"].runtime

    def case() -> CaseScenario:
        return CaseScenario(sessions, runtime, STAFF, clock)

    mediation = case()
    mediation.do_all("accept", "assess", "dispatch")  # 调处 30 日 from Monday 2 March: due 1 April
    clock.advance(days=7)
    unaccepted = case()  # 受理审查 1 工作日: due Tuesday 10 March
    clock.advance(days=24, hours=3)  # Thursday 2 April, 12:00
    assessment = case()
    assessment.do("accept")  # 研判 1 工作日: due Friday 23:59
    clock.advance(hours=33)  # Friday 21:00: past its warning, not its limit
    new = case()  # 受理审查: due Tuesday 7 April, after 清明
    return {"mediation": mediation, "unaccepted": unaccepted, "assessment": assessment, "new": new,
            "sessions": sessions}


@pytest.fixture
def desk(app):
    return build_desk(app)


def listed(client, query: str = "") -> list[tuple[int, str]]:
    """(case id, state) of each row, in order."""
    response = client.get(f"/cockpit/timers{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(int(case_id), state) for _, state, case_id in ROW.findall(response.get_data(as_text=True))]


def ids(desk, *names) -> list[int]:
    return [desk[name].case_id for name in names]


def test_the_open_tasks_are_listed_soonest_due_first_with_their_state(login, desk):
    manager = login("zfw")
    rows = listed(manager)
    assert rows == [(desk["unaccepted"].case_id, "overdue"), (desk["mediation"].case_id, "overdue"),
                    (desk["assessment"].case_id, "near_due"), (desk["new"].case_id, "normal")]
    assert [case_id for case_id, _ in listed(manager, "?sort=elapsed")] == ids(
        desk, "mediation", "unaccepted", "assessment", "new")
    page = manager.get("/cockpit/timers").get_data(as_text=True)
    assert "共 4 条" in page
    mediation = re.search(rf'<tr id="timer-{desk["mediation"].task("mediate").id}".*?</tr>', page, re.S).group(0)
    code = desk["mediation"].case().code
    assert f'<a href="/cases/{desk["mediation"].case_id}">{code}</a>' in mediation
    for text in ("邻里纠纷", "调处", "待认领", "九原区 · 调解员", "30 日", "2026-04-01 23:59", "已超期 1 天 21 小时",
                 '<span class="badge deadline-late">超期</span>', "督办"):
        assert text in mediation, text
    assessment = re.search(rf'<tr id="timer-{desk["assessment"].task("assess").id}".*?</tr>', page, re.S).group(0)
    assert '<span class="badge deadline-warn">临期</span>' in assessment and "剩余 2 小时" in assessment


def test_the_list_filters_by_state_and_refuses_an_unknown_one_by_name(login, desk):
    manager = login("zfw")
    assert listed(manager, "?state=overdue") == [(desk["unaccepted"].case_id, "overdue"),
                                                 (desk["mediation"].case_id, "overdue")]
    assert listed(manager, "?state=near_due&role=analyst") == [(desk["assessment"].case_id, "near_due")]
    assert listed(manager, "?state=paused") == []
    assert "共 2 条" in manager.get("/cockpit/timers?state=overdue").get_data(as_text=True)
    response = manager.get("/cockpit/timers?state=late")
    assert response.status_code == 400 and "计时状态“late”无法识别" in response.get_data(as_text=True)


def test_a_busy_county_is_paged_fifty_at_a_time_with_the_total(app, login, desk):
    for _ in range(50):
        CaseScenario(desk["sessions"], app.extensions["fengqiao"].runtime, STAFF, app.config["CLOCK"],
                     intake=dict(INTAKE))
    manager = login("zfw")
    first = manager.get("/cockpit/timers?state=normal").get_data(as_text=True)
    assert len(ROW.findall(first)) == 50 and "共 51 条" in first and "第 1 / 2 页" in first
    next_page = html_lib.unescape(re.search(r'<a href="([^"]+)" rel="next">下一页</a>', first).group(1))
    assert "state=normal" in next_page and "page=2" in next_page
    second = manager.get(next_page).get_data(as_text=True)
    assert len(ROW.findall(second)) == 1 and "第 2 / 2 页" in second
    # The saved view keeps the filters, not the page number.
    assert 'name="query" value="state=normal"' in second
    saved = manager.post("/cockpit/views", data={"name": "在办正常", "shared_with": "private", "page": "timers",
                                                 "query": "state=normal"})
    assert saved.status_code == 302 and saved.headers["Location"].startswith("/cockpit/timers?")
    assert "在办正常" in manager.get(saved.headers["Location"]).get_data(as_text=True)
    seen = {task_id for task_id, _, _ in ROW.findall(first) + ROW.findall(second)}
    assert len(seen) == 51


def test_letters_are_sent_from_the_list_with_the_pages_token(csrf_app):
    desk = build_desk(csrf_app)
    client = csrf_app.test_client()
    token = token_of(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "zfw", "password": PASSWORD, "csrf_token": token}).status_code == 302
    task_id = desk["mediation"].task("mediate").id
    page_url = "/cockpit/timers?state=overdue"
    page = client.get(page_url).get_data(as_text=True)
    url = f"/cockpit/timers/{task_id}/letter"
    assert f'action="{url}"' in page
    back = html_lib.unescape(re.search(rf'name="next" value="([^"]*#timer-{task_id})"', page).group(1))

    assert client.post(url, data={"kind": "work_reminder", "next": back}).status_code == 400  # no token
    response = client.post(url, data={"kind": "work_reminder", "note": "", "next": back,
                                      "csrf_token": token_of(page)})
    assert response.status_code == 303 and response.headers["Location"] == back
    listing = client.get(back).get_data(as_text=True)
    number = re.search(r"已出具工作提示函，文号 (150207-2026-提\d{5})", listing).group(1)

    refused = client.post(url, data={"kind": "supervision_letter", "note": " ", "next": back,
                                     "csrf_token": token_of(page)})
    assert refused.status_code == 303
    assert "未出具督办函（“调处”环节）：督办意见——督办函须填写督办意见" in client.get(back).get_data(as_text=True)
    client.post(url, data={"kind": "supervision_letter", "note": INSTRUCTIONS, "next": back,
                           "csrf_token": token_of(page)})
    assert re.search(r"已出具督办函，文号 150207-2026-督00001", client.get(back).get_data(as_text=True))

    with csrf_app.app_context():
        documents = db.session.scalars(select(CaseDocument).where(
            CaseDocument.case_id == desk["mediation"].case_id,
            CaseDocument.doc_type.in_(["work_reminder", "supervision_letter"])).order_by(CaseDocument.id)).all()
        letters = [(d.doc_type, d.number) for d in documents]
        assert letters == [("work_reminder", number), ("supervision_letter", "150207-2026-督00001")]
        assert INSTRUCTIONS in documents[-1].html
        events = db.session.scalars(select(CaseEvent.summary).where(
            CaseEvent.case_id == desk["mediation"].case_id, CaseEvent.kind == "supervision_sent")).all()
        assert [summary.split("（")[0] for summary in events] == [f"督办：出具工作提示函 {number}",
                                                                  "督办：出具督办函 150207-2026-督00001"]


def test_another_countys_task_is_not_found_and_a_clerk_is_refused(app, login, desk):
    task_id = desk["mediation"].task("mediate").id
    before = _letters(app, desk)
    other = login("other")  # 昆都仑区, every role
    assert other.post(f"/cockpit/timers/{task_id}/letter",
                      data={"kind": "supervision_letter", "note": INSTRUCTIONS}).status_code == 404
    assert listed(other) == []
    clerk = login("clerk")
    assert clerk.get("/cockpit/timers").status_code == 403
    assert clerk.post(f"/cockpit/timers/{task_id}/letter", data={"kind": "work_reminder"}).status_code == 403
    assert login("zfw").post(f"/cockpit/timers/{task_id}x/letter", data={"kind": "work_reminder"}).status_code == 404
    assert _letters(app, desk) == before


def test_a_task_completed_meanwhile_draws_no_letter(app, login, desk, clock):
    task_id = desk["assessment"].task("assess").id
    manager = login("zfw")
    desk["assessment"].do("assess")
    clock.advance(timedelta(minutes=5))
    response = manager.post(f"/cockpit/timers/{task_id}/letter", data={"kind": "work_reminder",
                                                                       "next": "/cockpit/timers?state=near_due"})
    assert response.status_code == 303 and response.headers["Location"] == "/cockpit/timers?state=near_due"
    assert "未出具工作提示函：该任务已办结或已撤回" in manager.get("/cockpit/timers").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, desk["assessment"].case_id).status == "open"
        assert not db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "supervision_sent")).all()


def test_the_board_links_to_the_node_timers(login, desk):
    page = login("zfw").get("/cockpit?scope=150207").get_data(as_text=True)
    assert '<a class="button small" href="/cockpit/timers?scope=150207">节点计时与督办</a>' in page


def _letters(app, desk) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(CaseDocument.number).where(
            CaseDocument.case_id == desk["mediation"].case_id)))


def test_a_claimed_task_names_its_handler(app, login, desk):
    with app.app_context():
        add_user("li", "李调解", ["mediator"], JIUYUAN)
        db.session.commit()
    with desk["sessions"]() as session:
        mediator = Actor.of("li", {"mediator"}, JIUYUAN, "李调解")
        app.extensions["fengqiao"].assignments.claim(session, desk["mediation"].task("mediate").id, mediator)
        session.commit()
    page = login("zfw").get("/cockpit/timers").get_data(as_text=True)
    row = re.search(rf'<tr id="timer-{desk["mediation"].task("mediate").id}".*?</tr>', page, re.S).group(0)
    assert "李调解" in row and "待认领" not in row
