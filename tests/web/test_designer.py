"""流程设计 in the browser: a designer opens a draft of a category, saves it, sees the problems at
the elements, compares it with the version in force and publishes it; other counties' drafts do
not exist for them. The last test drives the bpmn-js page itself in Debian chromium."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from engine.models import ProcessDraft, ProcessVersion
from tests.web.browser_session import logged_in_page, open_new_draft
from tests.web.conftest import add_user
from tests.web.test_browser import server, sync_playwright  # noqa: F401 — fixtures
from web.designer import PACKAGE_DIR
from web.extensions import db

JIUYUAN, DONGHE = "150207", "150202"
ACCEPT_FORM = '<spiffworkflow:property name="form" value="accept" />'
# The designer page loads both modelers (decision tables open in dmn-js).
VENDOR_READY = all((PACKAGE_DIR / "node_modules" / package / "dist" / bundle).is_file() for package, bundle in (
    ("bpmn-js", "bpmn-modeler.production.min.js"), ("dmn-js", "dmn-modeler.production.min.js")))


@pytest.fixture
def designers(app):
    with app.app_context():
        add_user("zhou", "周设计", ["designer"], JIUYUAN)
        add_user("wu", "吴设计", ["designer"], JIUYUAN)
        add_user("zhao", "赵设计", ["designer"], DONGHE)
        db.session.commit()


def open_draft(client, category="neighbour", jurisdiction=JIUYUAN) -> str:
    response = client.post("/designer/drafts", data={"category": category, "jurisdiction": jurisdiction})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def save(client, url, files, revision):
    return client.post(f"{url}/save", json={"files": files, "expected_revision": revision})


def test_a_designer_lists_categories_and_opens_a_draft_of_their_county(app, designers, login):
    assert login("clerk").get("/designer").status_code == 403
    client = login("zhou")
    page = client.get("/designer").get_data(as_text=True)
    assert "邻里纠纷" in page and "新建草稿" in page and "暂无草稿" in page
    url = open_draft(client)
    assert re.fullmatch(r"/designer/drafts/\d+", url)
    html = client.get(url).get_data(as_text=True)
    assert "bpmn-modeler.production.min.js" in html and "designer.js" in html and "提交发布" in html
    state = client.get(f"{url}/files").get_json()
    assert state["revision"] == 1 and state["problems"] == []
    assert set(state["files"]) == {"neighbour.bpmn", "routing.dmn"}
    listing = client.get("/designer").get_data(as_text=True)
    assert f'href="{url}"' in listing and "第 1 版" in listing


def test_a_county_designer_cannot_open_a_draft_of_the_base_or_another_county(app, designers, login):
    client = login("zhou")
    assert client.post("/designer/drafts", data={"category": "neighbour", "jurisdiction": ""}).status_code == 403
    assert client.post("/designer/drafts", data={"category": "neighbour", "jurisdiction": DONGHE}).status_code == 403
    assert client.post("/designer/drafts", data={"category": "no_such", "jurisdiction": JIUYUAN}).status_code == 404
    donghe_draft = open_draft(login("zhao"), jurisdiction=DONGHE)
    for suffix in ("", "/files", "/compare"):
        assert client.get(donghe_draft + suffix).status_code == 404
    assert client.post(f"{donghe_draft}/save", json={"files": {}, "expected_revision": 1}).status_code == 404
    assert client.post(f"{donghe_draft}/publish", json={"reason": "越权"}).status_code == 404
    assert donghe_draft not in client.get("/designer").get_data(as_text=True)


def test_a_save_reports_problems_at_the_element_with_the_texts_of_fengqiao_check(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    files = client.get(f"{url}/files").get_json()["files"]
    broken = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace(
        ACCEPT_FORM, '<spiffworkflow:property name="form" value="no_such_form" />', 1)}
    answer = save(client, url, broken, 1)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["revision"] == 2
    at_accept = [p for p in body["problems"] if p["element_id"] == "accept"]
    assert [p["message"] for p in at_accept] == ["form 'no_such_form' does not exist in forms/ (or is broken)"]
    assert re.fullmatch(r"neighbour\.bpmn:\d+ accept: form 'no_such_form' does not exist in forms/ \(or is broken\)",
                        at_accept[0]["text"])
    assert save(client, url, files, 2).get_json()["problems"] == []


def test_a_save_on_top_of_a_colleagues_newer_revision_is_refused_and_stores_nothing(app, designers, login):
    zhou, wu = login("zhou"), login("wu")
    url = open_draft(zhou)
    files = zhou.get(f"{url}/files").get_json()["files"]
    theirs = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace('name="分析研判"', 'name="风险研判"', 1)}
    assert save(wu, url, theirs, 1).status_code == 200
    mine = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace('name="受理审查"', 'name="受理"', 1)}
    refused = save(zhou, url, mine, 1)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["current_revision"] == 2 and body["saved_by"] == "wu"
    assert body["message"].startswith("未保存：wu 于 ") and "您的修改仍在画布上" in body["message"]
    stored = zhou.get(f"{url}/files").get_json()
    assert stored["revision"] == 2 and 'name="风险研判"' in stored["files"]["neighbour.bpmn"]
    assert 'name="受理审查"' in stored["files"]["neighbour.bpmn"]
    assert save(zhou, url, mine, 2).status_code == 200  # after reloading, the same edit goes through


def test_compare_and_publish_make_a_new_version_for_the_county(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    files = client.get(f"{url}/files").get_json()["files"]
    assert client.post(f"{url}/publish", json={"reason": "原样发布"}).status_code == 409  # changes nothing
    changed = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace('name="分析研判"', 'name="风险研判"', 1)}
    assert save(client, url, changed, 1).status_code == 200
    comparison = client.get(f"{url}/compare").get_json()
    assert comparison["empty"] is False
    assert [(c["element_id"], c["changes"]) for c in comparison["changed"]] == [
        ("assess", {"name": ["分析研判", "风险研判"]})]
    assert client.post(f"{url}/publish", json={"reason": " "}).status_code == 400
    answer = client.post(f"{url}/publish", json={"reason": "研判环节更名"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["state"] == "published" and body["message"].startswith(f"已发布为 v{body['version_number']}")
    with app.app_context():
        version = db.session.get(ProcessVersion, body["version_id"])
        assert (version.jurisdiction_code, version.source, version.published_by, version.reason) == (
            JIUYUAN, "designer", "zhou", "研判环节更名")
        assert db.session.get(ProcessDraft, int(url.rsplit("/", 1)[1])).state == "published"
    assert save(client, url, changed, 2).status_code == 409  # a published draft is not edited any more


def test_an_uploaded_file_replaces_the_drafts_file_and_its_syntax_error_is_reported(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    answer = client.post(f"{url}/upload", data={"file": (io.BytesIO(b"<bpmn:definitions"), "neighbour.bpmn"),
                                                "expected_revision": "1"}, content_type="multipart/form-data")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["revision"] == 2 and body["files"]["neighbour.bpmn"] == "<bpmn:definitions"
    assert any(p["file"] == "neighbour.bpmn" and p["message"].startswith("XML syntax error") for p in body["problems"])
    stale = client.post(f"{url}/upload", data={"file": (io.BytesIO(b"<x/>"), "neighbour.bpmn"),
                                               "expected_revision": "1"}, content_type="multipart/form-data")
    assert stale.status_code == 409
    refused = client.post(f"{url}/upload", data={"file": (io.BytesIO(b"<x/>"), "../evil.bpmn"),
                                                 "expected_revision": "2"}, content_type="multipart/form-data")
    assert refused.status_code == 400


def test_the_vendor_route_serves_only_the_allowed_dist_folders(app):
    client = app.test_client()
    for refused in ("/designer/vendor/bpmn-js/../package.json", "/designer/vendor/bpmn-js/..%2fpackage.json",
                    "/designer/vendor/bpmn-js/%2e%2e/package.json", "/designer/vendor/diagram-js/dist/diagram-js.css",
                    "/designer/vendor/bpmn-js/../../package-lock.json", "/designer/vendor/..%2f..%2fdesigner.py/x"):
        assert client.get(refused).status_code == 404, refused
    if VENDOR_READY:
        response = client.get("/designer/vendor/bpmn-js/assets/bpmn-js.css")
        assert response.status_code == 200 and response.mimetype == "text/css"


# -- in the browser ----------------------------------------------------------------------------------

@pytest.fixture
def browser_designer(csrf_app):
    if not VENDOR_READY:
        pytest.skip("the designer needs web/designer/node_modules (run scripts/setup.sh with Node.js installed)")
    with csrf_app.app_context():
        add_user("zhou", "周设计", ["designer"], JIUYUAN)
        db.session.commit()


def stored_draft(app) -> ProcessDraft:
    with app.app_context():
        return db.session.query(ProcessDraft).filter_by(state="draft").one()


def test_a_designer_sets_a_deadline_in_the_panel_and_sees_a_lint_error_on_the_element(
        sync_playwright, server, browser_designer, csrf_app, password):  # noqa: F811 — fixtures
    with logged_in_page(sync_playwright, server, "zhou", password) as page:
        open_new_draft(page)
        page.wait_for_selector('#canvas [data-element-id="accept"]')
        assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays

        page.click('#canvas [data-element-id="mediate"]')
        assert page.input_value("#deadline-amount") == "30" and page.input_value("#deadline-unit") == "日"
        assert page.input_value("#prop-form") == "mediate"
        page.fill("#deadline-amount", "3")
        page.select_option("#deadline-unit", "工作日")
        page.click("#save-button")
        page.wait_for_selector("#revision:has-text('第 2 版')")
        text = stored_draft(csrf_app).files["neighbour.bpmn"]
        mediate = text[text.index('id="mediate"'):text.index("</bpmn:userTask>", text.index('id="mediate"'))]
        assert '<spiffworkflow:property name="deadline" value="3 工作日" />' in mediate
        assert '<spiffworkflow:property name="escalate_after" value="45 日" />' in mediate  # others kept
        assert "<spiffworkflow:calledDecisionId>neighbour_routing</spiffworkflow:calledDecisionId>" in text

        page.evaluate("""() => {
            const modeler = window.fengqiaoDesigner.modeler;
            const element = modeler.get('elementRegistry').get('accept');
            const container = element.businessObject.extensionElements.values
                .find(v => v.$type === 'spiffworkflow:Properties');
            const wrong = modeler.get('moddle').create('spiffworkflow:Property', {name: 'form', value: 'no_such_form'});
            const list = container.properties.map(p => p.name === 'form' ? wrong : p);
            modeler.get('modeling').updateModdleProperties(element, container, {properties: list});
        }""")
        page.click("#save-button")
        page.wait_for_selector("#revision:has-text('第 3 版')")
        page.wait_for_selector('.djs-element.fq-problem[data-element-id="accept"]')
        assert "form 'no_such_form' does not exist" in page.inner_text(".fq-overlay")
        item = page.locator("#problems li", has_text="no_such_form")
        assert re.fullmatch(r"neighbour\.bpmn:\d+ accept: form 'no_such_form' .*", item.inner_text())
        item.click()
        assert page.input_value("#prop-form") == "no_such_form"  # the element is selected, its panel shown


def test_the_designer_package_is_locked(tmp_path):
    package = json.loads((PACKAGE_DIR / "package.json").read_text())
    lock = json.loads((PACKAGE_DIR / "package-lock.json").read_text())
    assert package["private"] is True and set(package["dependencies"]) == {"bpmn-js", "dmn-js", "echarts"}
    assert lock["packages"]["node_modules/bpmn-js"]["version"].startswith("18.")
    assert lock["packages"]["node_modules/echarts"]["version"].startswith("5.")
    assert lock["packages"]["node_modules/dmn-js"]["version"].startswith("17.")
    assert Path(PACKAGE_DIR / "package-lock.json").stat().st_size > 0
