"""我的设置: a user sees their grants and AB岗 backup, declares themselves away and changes their password."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from engine.models import User
from tests.web.conftest import PASSWORD
from web.extensions import db


@pytest.fixture
def user_row(db_read):
    return lambda username: db_read(lambda s: s.scalars(select(User).where(User.username == username)).one())


@pytest.fixture
def with_backup(app):
    """张调解 names 赵主任 as the backup (set by an administrator)."""
    with app.app_context():
        db.session.scalars(select(User).where(User.username == "mediator")).one().backup_username = "director"
        db.session.commit()


def test_the_page_shows_grants_and_the_backup_read_only(login, with_backup):
    html = login("mediator").get("/me").get_data(as_text=True)

    assert "我的设置" in html and "调解员" in html and "150207" in html
    assert "赵主任（director）" in html
    assert 'name="backup_username"' not in html  # an administrator's setting, not the user's

    assert "张调解" in login("director").get("/me").get_data(as_text=True)  # whom the director backs up


def test_the_header_links_to_the_settings(login):
    assert 'href="/me"' in login("clerk").get("/tasks").get_data(as_text=True)


def test_declaring_an_absence_stores_beijing_time_and_coming_back_clears_it(login, with_backup, user_row):
    mediator = login("mediator")

    response = mediator.post("/me/absence", data={"action": "away", "absent_until": "2026-03-04T18:00"},
                             follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "已登记请假/外出至 2026-03-04 18:00" in html and "已返岗" in html
    assert user_row("mediator").absent_until == datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc)
    assert "请假/外出至 2026-03-04 18:00" in login("director").get("/me").get_data(as_text=True)

    mediator.post("/me/absence", data={"action": "back"})
    assert user_row("mediator").absent_until is None


def test_an_absence_must_end_in_the_coming_year(login, user_row):
    mediator = login("mediator")
    for value, message in [("2026-03-01T18:00", "返岗时间应晚于当前时间"), ("2028-03-01T18:00", "最长一年"),
                           ("下周一", "请填写返岗时间")]:
        response = mediator.post("/me/absence", data={"action": "away", "absent_until": value})

        assert response.status_code == 422, value
        assert message in response.get_data(as_text=True), value
    assert user_row("mediator").absent_until is None


def test_a_password_is_changed_with_the_current_one(app, login):
    clerk = login("clerk")

    response = clerk.post("/me/password", data={"current_password": PASSWORD, "new_password": "九原区新密码2026",
                                                "repeated_password": "九原区新密码2026"})

    assert response.status_code == 303
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 200  # refused
    assert fresh.post("/login", data={"username": "clerk", "password": "九原区新密码2026"}).status_code == 302


def test_a_refused_password_change_says_why_and_keeps_the_old_password(app, login):
    clerk = login("clerk")
    for current, new, repeated, message in [
        ("wrong-password", "new-password-1", "new-password-1", "当前密码不正确"),
        (PASSWORD, "new-password-1", "new-password-2", "两次输入的新密码不一致"),
        (PASSWORD, "short", "short", "至少需要 8 个字符"),
        (PASSWORD, PASSWORD, PASSWORD, "不能与当前密码相同"),
    ]:
        response = clerk.post("/me/password", data={"current_password": current, "new_password": new,
                                                    "repeated_password": repeated})

        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True)
    assert app.test_client().post("/login", data={"username": "clerk", "password": PASSWORD}).status_code == 302
