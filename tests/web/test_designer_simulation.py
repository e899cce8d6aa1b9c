"""模拟运行 over HTTP: the draft page sends the diagram as it is now and gets the paths back; another
county's draft does not exist; a bad answer is refused naming its field; nothing is stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import Base
from tests.web.browser_session import logged_in_page, open_new_draft
from tests.web.conftest import add_user
from tests.web.test_browser import server, sync_playwright  # noqa: F401 — fixtures
from tests.web.test_designer import VENDOR_READY
from web.extensions import db

JIUYUAN, DONGHE = "150207", "150202"
START = "2026-04-30T09:00"  # Beijing time, as the datetime-local input sends it


def designers(app):
    with app.app_context():
        add_user("zhou", "周设计", ["designer"], JIUYUAN)
        add_user("zhao", "赵设计", ["designer"], DONGHE)
        db.session.commit()


def open_draft(client, jurisdiction=JIUYUAN) -> str:
    response = client.post("/designer/drafts", data={"category": "neighbour", "jurisdiction": jurisdiction})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def row_counts(app) -> dict:
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def test_the_draft_page_simulates_its_unsaved_diagram_path_by_path(app, login):
    designers(app)
    client = login("zhou")
    url = open_draft(client)
    page = client.get(url).get_data(as_text=True)
    assert 'id="simulation"' in page and "模拟运行" in page and "designer_simulation.js" in page
    defaults = client.get(f"{url}/simulate/defaults").get_json()
    assert defaults["answers"]["accept"] == {"accepted": True} and defaults["start"] == "2026-03-02T09:00"

    files = client.get(f"{url}/files").get_json()["files"]
    unsaved = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace('name="受理审查"', 'name="受理登记"', 1)}
    before = row_counts(app)
    answer = client.post(f"{url}/simulate", json={"files": unsaved, "start": START, "answers": {}})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    report = answer.get_json()

    assert report["ran"] and report["problems"] == [] and report["start"] == "2026-04-30 09:00"
    first = report["paths"][0]
    accept = first["steps"][0]
    assert (accept["name"], accept["role_name"], accept["candidates"], accept["due_at"], accept["limit"]) == (
        "受理登记", "窗口受理员", ["王受理"], "2026-05-06 23:59", "1 工作日")
    assert first["status"] == "concluded" and first["status_name"] == "已办结"
    statuses = {path["status"] for path in report["paths"]}
    assert "terminated" in statuses
    assert any("受理登记：是否受理 = 否" in path["choices"] for path in report["paths"])
    assert row_counts(app) == before  # the simulation stored nothing, the draft is not saved either
    assert 'name="受理审查"' in client.get(f"{url}/files").get_json()["files"]["neighbour.bpmn"]


def test_another_countys_draft_cannot_be_simulated(app, login):
    designers(app)
    donghe_draft = open_draft(login("zhao"), jurisdiction=DONGHE)
    client = login("zhou")
    assert client.post(f"{donghe_draft}/simulate", json={"start": START}).status_code == 404
    assert client.get(f"{donghe_draft}/simulate/defaults").status_code == 404
    assert login("clerk").post(f"{donghe_draft}/simulate", json={}).status_code == 403


def test_bad_input_is_refused_with_the_field_named(app, login):
    designers(app)
    client = login("zhou")
    url = open_draft(client)

    wrong = client.post(f"{url}/simulate", json={"start": START, "answers": {"accept": {"accepted": "也许"}}})
    assert wrong.status_code == 400
    assert wrong.get_json()["field"] == "answers.accept.accepted"
    assert "受理审查" in wrong.get_json()["message"] and "应为是/否" in wrong.get_json()["message"]

    unknown = client.post(f"{url}/simulate", json={"answers": {"no_such_task": {"x": 1}}})
    assert (unknown.status_code, unknown.get_json()["field"]) == (400, "answers.no_such_task")
    start = client.post(f"{url}/simulate", json={"start": "明天上午"})
    assert (start.status_code, start.get_json()["field"]) == (400, "start")
    files = client.post(f"{url}/simulate", json={"files": {"../neighbour.bpmn": "<x/>"}})
    assert (files.status_code, files.get_json()["field"]) == (400, "files")
    not_json = client.post(f"{url}/simulate", data={"start": START})
    assert (not_json.status_code, not_json.get_json()["field"]) == (400, "body")


def test_a_draft_with_errors_reports_them_instead_of_running(app, login):
    designers(app)
    client = login("zhou")
    url = open_draft(client)
    files = client.get(f"{url}/files").get_json()["files"]
    broken = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace('value="accept"', 'value="no_such_form"', 1)}
    report = client.post(f"{url}/simulate", json={"files": broken}).get_json()
    assert report["ran"] is False and report["paths"] == []
    assert any("form 'no_such_form' does not exist" in problem for problem in report["problems"])


# -- in the browser ----------------------------------------------------------------------------------

@pytest.mark.browser
def test_a_designer_renames_a_task_on_the_canvas_and_simulates_it_unsaved(
        sync_playwright, server, csrf_app, password):  # noqa: F811 — fixtures
    if not VENDOR_READY:
        pytest.skip("the designer needs web/designer/node_modules (run scripts/setup.sh with Node.js installed)")
    designers(csrf_app)
    with logged_in_page(sync_playwright, server, "zhou", password, timeout=30000) as page:
        open_new_draft(page)
        page.wait_for_selector('#canvas [data-element-id="accept"]')
        page.wait_for_function("document.getElementById('simulation-answers').value.includes('accepted')")
        page.evaluate("""() => {
            const modeler = window.fengqiaoDesigner.modeler;
            modeler.get('modeling').updateLabel(modeler.get('elementRegistry').get('accept'), '受理登记');
        }""")
        page.fill("#simulation-start", START)
        page.click("#simulation-run")
        page.wait_for_selector(".simulation-path")
        first = page.locator(".simulation-path").first
        assert "路径 1：已办结" in first.locator("h3").inner_text()
        row = first.locator("tbody tr").first
        assert "受理登记（accept）" in row.inner_text() and "2026-05-06 23:59" in row.inner_text()
        assert page.locator(".simulation-path", has_text="是否受理 = 否").count() == 1
        assert "运行" in page.inner_text("#simulation-status")
