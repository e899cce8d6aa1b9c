"""One neighbour dispute handled end to end in a real browser (Debian chromium through Playwright)."""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture
def sync_playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser test needs Debian chromium at {CHROMIUM} (apt-get install chromium)")
    module = pytest.importorskip("playwright.sync_api", reason="browser test needs the playwright package")
    return module.sync_playwright


@pytest.fixture
def server(csrf_app):
    """The app (CSRF on, as in production) served on a free localhost port."""
    httpd = make_server("127.0.0.1", 0, csrf_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


def fill_form(page, fields: dict[str, str]) -> None:
    """Fill a rendered task form the way a user would: pick radios and options, type text."""
    for name, value in fields.items():
        field = page.locator(f'[name="{name}"]').first
        kind = field.evaluate("e => e.tagName === 'SELECT' ? 'select' : (e.type || 'text')")
        if kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "select":
            field.select_option(value)
        else:
            field.fill(value)


def test_a_center_worker_with_every_role_handles_a_neighbour_dispute_in_the_browser(
        sync_playwright, server, add_user_with_all_roles, password, intake, success_path):
    add_user_with_all_roles("zhou", "周全能")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(5000)
            page.goto(f"{server}/login")
            page.fill("#username", "zhou")
            page.fill("#password", password)
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{server}/tasks")
            assert "周全能" in page.inner_text("header")

            page.click("nav >> text=登记纠纷")
            with page.expect_navigation():
                page.select_option("#category", "neighbour")  # the page reloads with that category's form
            assert page.inner_text("h2").startswith("邻里纠纷")
            fill_form(page, intake)
            page.click("button:has-text('登记')")
            page.wait_for_url(f"{server}/cases/*")
            assert "已登记，案件编号 150207-2026-" in page.inner_text(".flash")

            for _username, _element_id, fields in success_path:
                page.click("a.button:has-text('办理')")
                task_name = page.inner_text("h1")
                fill_form(page, fields)
                page.click("button:has-text('提交')")
                page.wait_for_selector(".flash-success")
                assert page.inner_text(".flash-success") == f"已办理：{task_name}"

            assert "已办结" in page.inner_text(".summary")
            assert "150207********1234" in page.content()
        finally:
            browser.close()
