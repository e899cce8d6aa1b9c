"""通知: a 日提醒 made by the job shows on its recipient's 通知 page with an unread count in the nav;
only the recipient may see it or mark it read."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine.digests import run_due
from engine.models import Notice
from tests.web.conftest import PASSWORD
from web.extensions import db
from web.services import services


def make_notices(app) -> int:
    with app.app_context():
        return run_due(sessionmaker(bind=db.engine, expire_on_commit=False), services().runtime)


def nav_count(page: str) -> str | None:
    match = re.search(r'href="/notices"[^>]*>通知(?: <span class="badge"[^>]*>(\d+)</span>)?</a>', page)
    assert match, "no 通知 link in the nav"
    return match.group(1)


def test_the_clerks_daily_digest_is_theirs_alone(app, login, register):
    clerk = login("clerk")
    case_id = register(clerk)
    assert make_notices(app) == 1  # Monday 09:00 at 九原区: the new case's 受理审查 is due by Tuesday night
    with app.app_context():
        notice = db.session.scalars(select(Notice)).one()
        code, task_id = notice.items[0]["case_code"], notice.items[0]["task_id"]

    page = clerk.get("/notices").get_data(as_text=True)
    assert nav_count(page) == "1"
    assert "日提醒" in page and code in page
    assert f'href="/cases/{case_id}"' in page and f'href="/tasks/{task_id}"' in page

    analyst = login("analyst")
    page = analyst.get("/notices").get_data(as_text=True)
    assert nav_count(page) is None and code not in page and "暂无通知" in page
    assert analyst.post(f"/notices/{notice.id}/read").status_code == 404

    assert clerk.post(f"/notices/{notice.id}/read").status_code == 303
    with app.app_context():
        assert db.session.get(Notice, notice.id).read_at is not None
    assert nav_count(clerk.get("/notices").get_data(as_text=True)) is None


def test_marking_read_needs_the_csrf_token(csrf_app):
    with csrf_app.app_context():
        notice = Notice(recipient="clerk", kind="daily_digest", jurisdiction_code="150207", period="2026-03-02",
                        title="日提醒", items=[], created_at=services().clock.now())
        db.session.add(notice)
        db.session.commit()
        notice_id = notice.id
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token})
    assert client.post(f"/notices/{notice_id}/read").status_code == 400
    with csrf_app.app_context():
        assert db.session.get(Notice, notice_id).read_at is None
