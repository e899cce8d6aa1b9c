"""流程热力图 and a case's 流程图 in Debian chromium: bpmn-js draws the diagram, the waiting case's node
carries its badge and heat colour, the case page outlines where the case stands — without a script error
(logged_in_page fails the test on any)."""
from __future__ import annotations

import pytest

from tests.web.browser_session import logged_in_page, manager_and_a_waiting_case
from tests.web.test_browser import server, sync_playwright  # noqa: F401
from web.process_diagram import VIEWER_BUNDLE
from web.designer import PACKAGE_DIR

VIEWER_READY = (PACKAGE_DIR / "node_modules" / "bpmn-js" / "dist" / VIEWER_BUNDLE).is_file()


@pytest.fixture
def waiting_case(csrf_app):
    if not VIEWER_READY:
        pytest.skip("the diagram needs web/designer/node_modules (run scripts/setup.sh with Node.js installed)")
    return manager_and_a_waiting_case(csrf_app)


def test_the_heatmap_draws_its_badges_and_the_case_page_its_path(
        sync_playwright, server, waiting_case, password):  # noqa: F811 — fixtures
    with logged_in_page(sync_playwright, server, "manager", password) as page:
        page.goto(f"{server}/cockpit/heatmap?category=neighbour&scope=150207&heat=waiting")
        page.wait_for_selector("#heatmap-canvas[data-drawn]")
        badge = page.locator('.heat-badge[data-element="accept"]')
        assert badge.get_attribute("aria-label") == "受理审查：等待 1 · 中位 — · P90 —"
        assert badge.inner_text().split("\n") == ["等待 1", "中位 — · P90 —"]
        assert badge.get_attribute("href") == "/cockpit/timers?category=neighbour&scope=150207"
        assert page.locator('.djs-element[data-element-id="accept"].heat-level-4').count() == 1
        assert page.locator(".heat-badge").count() == page.locator("#heatmap-table tbody tr").count()

        page.goto(f"{server}/cases/{waiting_case}")
        page.wait_for_selector("#case-path-canvas[data-drawn]")
        assert page.locator('.djs-element[data-element-id="accept"].path-current').count() == 1
        assert page.locator(".djs-element.path-done").count() == 0
