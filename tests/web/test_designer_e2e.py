"""The designer's whole round in Debian chromium, as issue 6 states it: open a category, add a task
with a deadline in 工作日, see the lint error on the element, fix it in the properties panel,
simulate, publish — and register a case that runs on the new version."""
from __future__ import annotations


import pytest

from engine.models import Case, ProcessVersion
from tests.web.browser_session import logged_in_page, open_new_draft
from tests.web.conftest import ALL_ROLES, add_user
from tests.web.test_browser import fill_form, server, sync_playwright  # noqa: F401
from tests.web.test_designer import VENDOR_READY
from web.extensions import db

# A user task between 受理告知 and 分析研判, added the way the palette and context pad do it: a shape
# from the element factory, the incoming flow re-pointed at it and a new flow on to 分析研判.
ADD_VERIFY_TASK = """() => {
    const modeler = window.fengqiaoDesigner.modeler;
    const registry = modeler.get('elementRegistry'), modeling = modeler.get('modeling');
    const notice = registry.get('acceptance_notice_event'), assess = registry.get('assess');
    const shape = modeler.get('elementFactory').createShape({type: 'bpmn:UserTask'});
    const task = modeling.createShape(shape, {x: assess.x + 50, y: assess.y + 190}, notice.parent);
    modeling.updateProperties(task, {id: 'verify', name: '上门核实'});
    modeling.reconnectEnd(registry.get('flow_to_assess'), task, {x: task.x + 50, y: task.y});
    modeling.connect(task, assess);
}"""


@pytest.fixture
def designer_and_staff(csrf_app):
    if not VENDOR_READY:
        pytest.skip("the designer needs web/designer/node_modules (run scripts/setup.sh with Node.js installed)")
    with csrf_app.app_context():
        add_user("zhou", "周全能", ALL_ROLES + ["designer"], "150207")
        db.session.commit()


def test_a_designer_adds_a_task_fixes_it_simulates_publishes_and_a_case_runs_on_it(
        sync_playwright, server, designer_and_staff, csrf_app, password, intake):  # noqa: F811 — fixtures
    with logged_in_page(sync_playwright, server, "zhou", password, timeout=15000) as page:

        # Open 邻里纠纷 for 九原区 and add the task.
        open_new_draft(page)
        page.wait_for_selector('#canvas [data-element-id="assess"]')
        page.evaluate(ADD_VERIFY_TASK)
        page.click("#save-button")
        page.wait_for_selector("#revision:has-text('第 2 版')")

        # The new task has no form, role or deadline: the problem is drawn on it.
        page.wait_for_selector('.djs-element.fq-problem[data-element-id="verify"]')
        problem = page.locator("#problems li", has_text="verify")
        assert "user task needs spiffworkflow properties form, role, deadline" in problem.inner_text()

        # Fix it in the panel: a form, the 研判员 role and 2 工作日.
        page.click('#canvas [data-element-id="verify"]')
        page.select_option("#prop-form", "archive")
        page.select_option("#prop-role", "analyst")
        page.fill("#deadline-amount", "2")
        page.select_option("#deadline-unit", "工作日")
        page.click("#save-button")
        page.wait_for_selector("#revision:has-text('第 3 版')")
        page.wait_for_selector('.djs-element.fq-problem[data-element-id="verify"]', state="detached")
        assert page.locator("#problems li", has_text="verify").count() == 0

        # Simulate: the new task comes to 九原区's 研判员 with a limit of 2 工作日.
        page.click("#simulation-run")
        page.wait_for_selector("#simulation-result .simulation-path")
        row = page.locator("#simulation-result tr", has_text="上门核实（verify）").first
        cells = row.inner_text()
        assert "研判员" in cells and "2 工作日" in cells and "周全能" in cells

        # Publish for 九原区.
        page.fill("#publish-reason", "受理后增加上门核实环节")
        page.click("#publish-button")
        page.wait_for_selector("#designer-status:has-text('已发布为 v')")

        # Register a case: after 受理 it reaches 上门核实 on the new version.
        page.click("nav >> text=登记纠纷")
        with page.expect_navigation():
            page.select_option("#category", "neighbour")
        fill_form(page, intake)
        page.click("button:has-text('登记')")
        page.wait_for_url(f"{server}/cases/*")
        page.click("a.button:has-text('办理')")
        fill_form(page, {"accepted": "true"})
        page.click("button:has-text('提交')")
        page.wait_for_selector(".flash-success")
        assert "上门核实" in page.inner_text("main")
    with csrf_app.app_context():
        case = db.session.query(Case).one()
        version = db.session.get(ProcessVersion, case.process_version_id)
        assert (version.jurisdiction_code, version.source, version.reason) == ("150207", "designer", "受理后增加上门核实环节")
        assert case.current_nodes == ["上门核实"]
