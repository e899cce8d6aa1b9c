"""Logging in and out of Fengqiao."""
FAILED = "用户名或密码错误"


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(app, password):
    client = app.test_client()

    wrong_password = client.post("/login", data={"username": "clerk", "password": "guess"})
    unknown_user = client.post("/login", data={"username": "nobody", "password": password})

    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert FAILED in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302  # still not logged in


def test_a_clerk_logs_in_and_lands_on_the_inbox_with_the_name_shown(app, password):
    client = app.test_client()

    response = client.post("/login", data={"username": "clerk", "password": password}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.request.path == "/tasks"
    assert "我的待办" in html and "王受理" in html


def test_pages_need_a_login_and_return_to_the_page_asked_for(app, password):
    client = app.test_client()

    response = client.get("/cases?status=open")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")

    response = client.post("/login", data={"username": "clerk", "password": password, "next": "/cases?status=open"})
    assert response.headers["Location"] == "/cases?status=open"


def test_a_login_link_cannot_send_the_user_to_another_site(app, password):
    client = app.test_client()

    response = client.post("/login", data={"username": "clerk", "password": password,
                                           "next": "//evil.example/phish"})

    assert response.headers["Location"] == "/tasks"


def test_the_session_lasts_the_configured_working_day(app, password):
    client = app.test_client()
    response = client.post("/login", data={"username": "clerk", "password": password})

    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_logging_out_ends_the_session(login):
    client = login("clerk")

    response = client.post("/logout", follow_redirects=True)

    assert "已退出登录" in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302


def test_the_calendar_is_for_administrators_only(login):
    assert login("clerk").get("/admin/calendar").status_code == 403
    assert login("admin").get("/admin/calendar").status_code == 200
