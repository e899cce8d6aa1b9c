"""A logged-in chromium page for the browser tests, and the designer's first step in them."""
from __future__ import annotations

import re
from contextlib import contextmanager

from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS


@contextmanager
def logged_in_page(sync_playwright, server: str, username: str, password: str, *, timeout: int = 10000,
                   **page_options):
    """A page of Debian chromium logged in as `username` (landed on /tasks). The test fails if a script
    on any page it opened raised an error."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(**page_options)
            page.set_default_timeout(timeout)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{server}/login")
            page.fill("#username", username)
            page.fill("#password", password)
            page.click("button:has-text('登录')")
            page.wait_for_url(f"{server}/tasks")
            yield page
            assert not errors, errors
        finally:
            browser.close()


def open_new_draft(page, category_name: str = "邻里纠纷") -> None:
    """From the navigation: 流程设计 → 新建草稿 of the category, and wait for its draft page."""
    page.click("nav >> text=流程设计")
    page.locator("#categories tr", has_text=category_name).locator("button:has-text('新建草稿')").click()
    page.wait_for_url(re.compile(r".*/designer/drafts/\d+$"))


def manager_and_a_waiting_case(app) -> int:
    """A 政法委 manager ("manager", 九原区) and one 邻里 case registered by the clerk; returns its id."""
    from engine.models import User
    from engine.people import actor_for
    from tests.web.conftest import NEIGHBOUR_INTAKE, add_user
    from web.extensions import db
    from web.services import services

    with app.app_context():
        add_user("manager", "钱政法", ["manager"], "150207")
        db.session.commit()
        clerk = actor_for(db.session, db.session.query(User).filter_by(username="clerk").one(),
                          services().clock.now())
        intake = {**NEIGHBOUR_INTAKE, "people_count": 2, "amount": 3500}  # typed, as the form parser hands it on
        return services().runtime.start_case(db.session, "neighbour", intake, "150207", clerk).id
