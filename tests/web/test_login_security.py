"""Login that resists guessing and sessions that end: lockout, idle timeout, disabled accounts."""
from __future__ import annotations


from engine.models import User
from web.extensions import db


def attempt(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, clock, password):
    client = app.test_client()
    for _ in range(4):
        response = attempt(client, "clerk", "wrong")
        assert response.status_code == 200 and "用户名或密码错误" in response.get_data(as_text=True)
    locked = attempt(client, "clerk", "wrong")
    assert locked.status_code == 429 and "账户已临时锁定" in locked.get_data(as_text=True)
    # Even the right password is refused while locked.
    assert attempt(client, "clerk", password).status_code == 429
    clock.advance(minutes=16)
    assert attempt(client, "clerk", password).status_code == 302


def test_a_successful_login_resets_the_count_of_failures(app, password):
    client = app.test_client()
    for _ in range(4):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "clerk", password).status_code == 302
    client = app.test_client()
    for _ in range(4):
        assert attempt(client, "clerk", "wrong").status_code == 200  # counting starts again


def test_unknown_names_get_the_same_answer_as_wrong_passwords(app):
    body = attempt(app.test_client(), "nobody", "whatever").get_data(as_text=True)
    assert "用户名或密码错误" in body


def test_an_idle_session_ends_after_thirty_minutes(app, clock, login):
    app.config["IDLE_TIMEOUT_SECONDS"] = 30 * 60  # the production default
    client = login("clerk")
    assert client.get("/tasks").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/tasks").status_code == 200  # activity keeps it alive
    clock.advance(minutes=31)
    response = client.get("/tasks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_disabled_account_cannot_log_in_and_its_session_ends(app, login, password):
    client = login("clerk")
    with app.app_context():
        db.session.query(User).filter_by(username="clerk").one().active = False
        db.session.commit()
    assert client.get("/tasks").status_code == 302
    assert attempt(app.test_client(), "clerk", password).status_code == 200
