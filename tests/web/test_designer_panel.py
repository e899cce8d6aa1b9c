"""流程设计 properties panel and decision tables, in Debian chromium: a designer sets what Fengqiao
reads from a task (documents, escalation, extension) and adds a timer by its kind without typing an
expression; another edits a cell of routing.dmn in dmn-js. What the server stores is checked as
`fengqiao check` would see it."""
from __future__ import annotations

from contextlib import contextmanager

from lxml import etree

from tests.web.browser_session import logged_in_page, open_new_draft
from tests.web.test_designer import browser_designer  # noqa: F401 — fixture
from tests.web.test_browser import server, sync_playwright  # noqa: F401 — fixtures

BPMN = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
DMN = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


@contextmanager
def neighbour_draft_page(sync_playwright, server, password):  # noqa: F811 — fixture values
    """A browser page on a new draft of 邻里纠纷 for 九原区, opened the way a designer does it."""
    with logged_in_page(sync_playwright, server, "zhou", password, viewport={"width": 1400, "height": 1000}) as page:
        open_new_draft(page)
        page.wait_for_selector('#canvas [data-element-id="dispatch"]')
        yield page


def saved_state(page) -> dict:
    """What the server holds for the draft (GET /designer/drafts/<id>/files, the page's session)."""
    response = page.request.get(page.url + "/files")
    assert response.status == 200
    return response.json()


def properties(element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in element.iterfind(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", BPMN)}


def test_a_designer_sets_documents_escalation_and_extension_and_adds_a_timer_by_its_kind(
        sync_playwright, server, browser_designer, password):  # noqa: F811 — fixtures
    with neighbour_draft_page(sync_playwright, server, password) as page:
        page.click('#canvas [data-element-id="dispatch"]')
        assert page.is_checked('input[name="documents"][value="transfer_order"]')  # read from the file
        page.check('input[name="documents"][value="work_reminder"]')
        page.fill("#escalate-amount", "10")
        page.select_option("#escalate-unit", "日")
        page.fill("#extension-amount", "5")
        page.select_option("#extension-unit", "工作日")
        page.fill("#prop-max-extensions", "2")
        page.select_option("#new-timer-kind", "escalate")
        page.click("#add-timer")
        page.wait_for_selector('#canvas [data-element-id="dispatch_escalate"]')
        assert page.input_value("#timer-kind") == "escalate"  # the new timer is selected, its kind set
        assert 'escalation_of("dispatch")' in page.inner_text("#timer-expression")
        page.check('input[name="documents"][value="supervision_letter"]')
        page.click("#save-button")
        page.wait_for_selector("#revision:has-text('第 2 版')")

        state = saved_state(page)
        assert state["problems"] == []  # what the panel wrote lints clean
        tree = etree.fromstring(state["files"]["neighbour.bpmn"].encode("utf-8"))
        dispatch = tree.find(".//bpmn:userTask[@id='dispatch']", BPMN)
        assert properties(dispatch) == {"form": "dispatch", "role": "director", "deadline": "2 工作日",
                                        "documents": "transfer_order,work_reminder", "escalate_after": "10 日",
                                        "extension": "5 工作日", "max_extensions": "2"}
        timer = tree.find(".//bpmn:boundaryEvent[@id='dispatch_escalate']", BPMN)
        assert timer.get("attachedToRef") == "dispatch" and timer.get("cancelActivity") != "false"
        assert properties(timer) == {"timer_kind": "escalate", "documents": "supervision_letter"}
        assert timer.findtext("bpmn:timerEventDefinition/bpmn:timeDate", namespaces=BPMN) == 'escalation_of("dispatch")'

        page.reload()  # what the page wrote reads back into the panel
        page.wait_for_selector('#canvas [data-element-id="dispatch"]')
        page.click('#canvas [data-element-id="dispatch"]')
        assert (page.input_value("#escalate-amount"), page.input_value("#extension-unit")) == ("10", "工作日")
        assert page.is_checked('input[name="documents"][value="work_reminder"]')
        page.click("#timer-list button:has-text('逾期升级')")
        assert page.input_value("#timer-kind") == "escalate"


def test_a_designer_edits_a_decision_table_cell_and_a_broken_cell_is_reported_at_the_cell(
        sync_playwright, server, browser_designer, password):  # noqa: F811 — fixtures
    def type_into(cell_id: str, text: str) -> None:
        page.click(f'#dmn-canvas td[data-element-id="{cell_id}"] [contenteditable]')
        page.keyboard.press("Control+A")
        page.keyboard.type(text)

    with neighbour_draft_page(sync_playwright, server, password) as page:
        page.select_option("#file-select", "routing.dmn")
        page.wait_for_selector('#dmn-canvas td[data-element-id="rule_orange_level"]')
        assert page.locator("#canvas").is_hidden() and page.locator("#dmn-canvas .bjs-powered-by").is_visible()
        type_into("rule_orange_level", '"county"')
        page.select_option("#file-select", "neighbour.bpmn")  # the table's edit is kept while away
        page.wait_for_selector('#canvas [data-element-id="dispatch"]')
        page.click("#save-button")
        page.wait_for_selector("#revision:has-text('第 2 版')")
        state = saved_state(page)
        assert state["problems"] == []
        table = etree.fromstring(state["files"]["routing.dmn"].encode("utf-8"))
        assert table.findtext(".//dmn:outputEntry[@id='rule_orange_level']/dmn:text", namespaces=DMN) == '"county"'

        page.select_option("#file-select", "routing.dmn")
        page.wait_for_selector('#dmn-canvas td[data-element-id="rule_red_risk"]')
        type_into("rule_red_risk", "== ==")
        page.click("#save-button")
        page.wait_for_selector("#revision:has-text('第 3 版')")
        problem = page.locator("#problems li", has_text="rule_red_risk")
        assert problem.inner_text().startswith("routing.dmn:")
        page.select_option("#file-select", "neighbour.bpmn")
        page.wait_for_selector('#canvas [data-element-id="dispatch"]')
        problem.click()  # opens the table again with the cursor in the broken cell
        page.wait_for_function("""() => document.activeElement &&
            document.activeElement.closest('[data-element-id="rule_red_risk"]') !== null""")
        assert page.locator("#canvas").is_hidden()
