"""表单设计 in the browser: a designer of 九原区 opens the forms of a neighbour draft, edits the 调处
form field by field with a live preview, saves it into the draft and sees it in the process
designer; another county's forms do not exist for them. The last test types in Debian chromium."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.models import ProcessDraft
from tests.web.browser_session import logged_in_page, open_new_draft
from tests.web.test_designer import browser_designer  # noqa: F401 — fixture
from tests.web.conftest import add_user
from tests.web.test_browser import server, sync_playwright  # noqa: F401 — fixtures
from tests.web.test_designer import open_draft
from web.extensions import db

JIUYUAN, DONGHE = "150207", "150202"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def designers(app):
    with app.app_context():
        add_user("zhou", "周设计", ["designer"], JIUYUAN)
        add_user("wu", "吴设计", ["designer"], JIUYUAN)
        add_user("zhao", "赵设计", ["designer"], DONGHE)
        db.session.commit()


def mediate_with_place(max_length: int = 50) -> str:
    schema = json.loads((ROOT / "forms" / "mediate.json").read_text(encoding="utf-8"))
    schema["properties"]["mediation_place"] = {"type": "string", "title": "调解地点", "maxLength": max_length}
    schema["required"].append("mediation_place")
    return json.dumps(schema, ensure_ascii=False, indent=2)


def stored(app, url) -> ProcessDraft:
    with app.app_context():
        return db.session.get(ProcessDraft, int(url.rsplit("/", 1)[1]))


def test_the_forms_page_lists_the_forms_the_category_uses(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    page = client.get(f"{url}/forms").get_data(as_text=True)
    assert "纠纷登记" in page and "登记表单" in page  # the intake form of category.toml
    assert "调处（mediate）" in page and "<code>mediate</code>" in page and "表单库" in page
    assert "已修改" not in page
    assert f'href="{url}/forms"' in client.get(url).get_data(as_text=True)  # linked from the designer's toolbar


def test_a_designer_edits_a_form_and_it_is_saved_into_the_draft(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    editor = client.get(f"{url}/forms/mediate").get_data(as_text=True)
    assert "designer_forms.js" in editor and "调解记录" in editor and 'data-revision="1"' in editor
    assert 'name="mediation_record"' in editor  # the preview is drawn with the page

    answer = client.post(f"{url}/forms/mediate/save", json={"text": mediate_with_place(), "expected_revision": 1})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["revision"] == 2 and body["problems"] == [] and body["message"] == "已保存为第 2 版，未发现问题"
    draft = stored(app, url)
    assert json.loads(draft.files["forms/mediate.json"])["properties"]["mediation_place"]["title"] == "调解地点"
    assert {"neighbour.bpmn", "routing.dmn"} <= set(draft.files)  # the process files are kept

    listing = client.get(f"{url}/forms").get_data(as_text=True)
    assert "已修改" in listing and "本草稿（已修改）" in listing
    comparison = client.get(f"{url}/compare").get_json()
    assert comparison["files_changed"] == ["forms/mediate.json"]


def test_the_preview_draws_the_form_as_a_task_page_does(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    answer = client.post(f"{url}/forms/preview", json={"text": mediate_with_place()})
    assert answer.status_code == 200
    html = answer.get_json()["html"]
    assert '<input type="text" id="f-mediation_place" name="mediation_place" required maxlength="50"' in html
    assert "调解地点" in html and '<textarea id="f-mediation_record"' in html
    assert '<input type="radio" name="mediation_outcome" value="success"' in html and "调解成功" in html
    assert "<h3" in html and "调处" in html

    nested = json.dumps({"type": "object", "properties": {"parties": {"type": "array", "title": "当事人"}}})
    body = client.post(f"{url}/forms/preview", json={"text": nested}).get_json()
    assert "办理页面不会显示：parties" in body["html"]


def test_an_invalid_schema_shows_what_and_where_instead_of_the_preview(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    text = mediate_with_place(max_length=-1)
    answer = client.post(f"{url}/forms/preview", json={"text": text})
    assert answer.status_code == 422
    body = answer.get_json()
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"maxLength": -1' in row)
    assert body["pointer"] == "/properties/mediation_place/maxLength" and body["line"] == line
    assert body["message"] == (f"表单定义有误（第 {line} 行，/properties/mediation_place/maxLength）："
                               "not a valid JSON Schema: -1 is less than the minimum of 0")

    unclosed = '{\n  "type": "object",\n  "properties": {\n}'
    syntax = client.post(f"{url}/forms/preview", json={"text": unclosed}).get_json()
    assert syntax["line"] == 4 and syntax["message"].startswith("表单定义有误（第 4 行）：JSON syntax:")
    assert client.post(f"{url}/forms/preview", json={"schema": {}}).status_code == 400

    # Saved anyway, it is a draft: the lint names the file, the line and the pointer, and publishing waits.
    saved = client.post(f"{url}/forms/mediate/save", json={"text": text, "expected_revision": 1}).get_json()
    assert [p["text"] for p in saved["problems"]] == [
        f"forms/mediate.json:{line} properties/mediation_place/maxLength: "
        "not a valid JSON Schema: -1 is less than the minimum of 0"]
    assert saved["message"] == "已保存为第 2 版，此表单有问题需要处理"
    refused = client.post(f"{url}/publish", json={"reason": "坏表单"})
    assert refused.status_code == 409 and "forms/mediate.json" in refused.get_json()["message"]


def test_a_save_on_top_of_a_colleagues_newer_revision_is_refused_and_keeps_nothing(app, designers, login):
    zhou, wu = login("zhou"), login("wu")
    url = open_draft(zhou)
    files = wu.get(f"{url}/files").get_json()["files"]
    renamed = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace('name="分析研判"', 'name="风险研判"', 1)}
    assert wu.post(f"{url}/save", json={"files": renamed, "expected_revision": 1}).status_code == 200

    refused = zhou.post(f"{url}/forms/mediate/save", json={"text": mediate_with_place(), "expected_revision": 1})
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["message"].startswith("未保存：wu 于 ") and body["current_revision"] == 2
    draft = stored(app, url)
    assert draft.revision == 2 and "forms/mediate.json" not in draft.files
    # After reloading, the same text goes through on top of the colleague's change.
    again = zhou.post(f"{url}/forms/mediate/save", json={"text": mediate_with_place(), "expected_revision": 2})
    assert again.status_code == 200
    assert 'name="风险研判"' in stored(app, url).files["neighbour.bpmn"]


def test_a_new_form_starts_minimal_and_appears_in_the_designers_form_list(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    refused = client.post(f"{url}/forms", data={"name": "Visit-Record", "title": "回访", "expected_revision": "1"})
    assert refused.status_code == 303 and stored(app, url).revision == 1
    assert "表单名称「Visit-Record」无效" in client.get(refused.headers["Location"]).get_data(as_text=True)

    created = client.post(f"{url}/forms", data={"name": "visit_record", "title": "上门回访记录", "expected_revision": "1"})
    assert created.status_code == 303 and created.headers["Location"] == f"{url}/forms/visit_record"
    schema = json.loads(stored(app, url).files["forms/visit_record.json"])
    assert schema == {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "上门回访记录",
                      "type": "object", "properties": {}, "required": [], "additionalProperties": False}
    assert "表单还没有可填写的字段" in client.get(created.headers["Location"]).get_data(as_text=True)
    problems = client.get(f"{url}/files").get_json()["problems"]
    assert [(p["file"], p["severity"]) for p in problems] == [("forms/visit_record.json", "warning")]

    designer_page = client.get(url).get_data(as_text=True)
    assert '<option value="visit_record">visit_record</option>' in designer_page
    existing = client.post(f"{url}/forms", data={"name": "mediate", "expected_revision": "2"})
    assert existing.headers["Location"] == f"{url}/forms/mediate" and stored(app, url).revision == 2


def test_reverting_drops_the_drafts_copy(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    client.post(f"{url}/forms/mediate/save", json={"text": mediate_with_place(), "expected_revision": 1})
    assert "放弃修改" in client.get(f"{url}/forms/mediate").get_data(as_text=True)
    answer = client.post(f"{url}/forms/mediate/revert", data={"expected_revision": "2"})
    assert answer.status_code == 303
    draft = stored(app, url)
    assert draft.revision == 3 and "forms/mediate.json" not in draft.files


def test_forms_of_unknown_names_and_published_drafts(app, designers, login):
    client = login("zhou")
    url = open_draft(client)
    assert client.get(f"{url}/forms/no_such_form").status_code == 404
    assert client.get(f"{url}/forms/Bad-Name").status_code == 404
    assert client.post(f"{url}/forms/mediate/save", data={"text": "{}"}).status_code == 400
    client.post(f"{url}/forms/mediate/save", json={"text": mediate_with_place(), "expected_revision": 1})
    assert client.post(f"{url}/publish", json={"reason": "调处表单增加调解地点"}).status_code == 200
    page = client.get(f"{url}/forms/mediate").get_data(as_text=True)
    assert "表单只能查看" in page
    late = client.post(f"{url}/forms/mediate/save", json={"text": mediate_with_place(), "expected_revision": 2})
    assert late.status_code == 409 and late.get_json()["message"].startswith("未能保存：")


def test_another_countys_forms_do_not_exist(app, designers, login):
    donghe_draft = open_draft(login("zhao"), jurisdiction=DONGHE)
    client = login("zhou")
    for suffix in ("/forms", "/forms/mediate"):
        assert client.get(donghe_draft + suffix).status_code == 404
    assert client.post(f"{donghe_draft}/forms/preview", json={"text": "{}"}).status_code == 404
    assert client.post(f"{donghe_draft}/forms/mediate/save",
                       json={"text": mediate_with_place(), "expected_revision": 1}).status_code == 404
    assert client.post(f"{donghe_draft}/forms", data={"name": "x", "expected_revision": "1"}).status_code == 404
    assert stored(app, donghe_draft).revision == 1


# -- in the browser ----------------------------------------------------------------------------------

def test_typing_a_field_title_updates_the_preview_and_saving_keeps_it(
        sync_playwright, server, browser_designer, csrf_app, password):  # noqa: F811 — fixtures
    with logged_in_page(sync_playwright, server, "zhou", password) as page:
        open_new_draft(page)
        page.click("#forms-link")
        page.locator("#forms tr", has_text="mediate").locator("a").click()
        page.wait_for_selector("#form-preview #f-mediation_record")

        record = page.locator('#form-fields li[data-key="mediation_record"]')
        record.locator(".form-field-title").fill("调解经过")
        page.wait_for_selector("#form-preview label[for='f-mediation_record']:has-text('调解经过')")
        page.click("#form-add-field")
        added = page.locator('#form-fields li[data-key="field_3"]')
        added.locator(".form-field-title").fill("调解地点")
        added.locator(".form-field-kind").select_option("integer")
        page.wait_for_selector("#form-preview input[type='number'][name='field_3']")
        assert page.inner_text("#form-preview label[for='f-field_3']").startswith("调解地点")
        page.click("#form-save")
        page.wait_for_selector("#form-status:has-text('已保存为第 2 版')")
        with csrf_app.app_context():
            draft = db.session.query(ProcessDraft).filter_by(state="draft").one()
            schema = json.loads(draft.files["forms/mediate.json"])
        assert schema["properties"]["mediation_record"]["title"] == "调解经过"
        assert schema["properties"]["field_3"] == {"type": "integer", "title": "调解地点"}
        assert schema["properties"]["mediation_record"]["x-widget"] == "textarea"  # kept

        page.click("#form-raw-section summary")
        page.fill("#form-raw", '{"type": "object", "properties": {"a": {"type": "integr"}}}')
        page.wait_for_selector("#form-preview-error:has-text('/properties/a/type')")
        assert page.is_visible("#form-structure-note") is False  # still JSON: the field editor follows
        page.fill("#form-raw", '{"type": "object", "properties": {')
        page.wait_for_selector("#form-preview-error:has-text('JSON syntax')")
        assert page.is_visible("#form-structure-note")
