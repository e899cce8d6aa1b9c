"""With CSRF protection on (as in production): forms work with the page's token and fail without it."""
import re


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_post_without_the_token_is_rejected(csrf_app, password):
    client = csrf_app.test_client()

    response = client.post("/login", data={"username": "clerk", "password": password})

    assert response.status_code == 400
    assert "请刷新页面后重新提交" in response.get_data(as_text=True)


def test_a_clerk_logs_in_registers_and_accepts_a_case_with_tokens_taken_from_the_pages(csrf_app, password):
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": "clerk", "password": password,
                                           "csrf_token": token_of(login_page)})
    assert response.status_code == 302

    form_page = client.get("/cases/new").get_data(as_text=True)
    response = client.post("/cases/new", data={
        "csrf_token": token_of(form_page), "_category": "neighbour", "_jurisdiction": "150207",
        "title": "占道堆物", "summary": "邻居在楼道堆放杂物。", "channel": "grid",
        "applicant_name": "周玉梅", "applicant_phone": "13700001111",
    })
    assert response.status_code == 302
    case_page = client.get(response.headers["Location"]).get_data(as_text=True)

    task_url = re.search(r'href="(/tasks/[0-9a-f-]+)"', case_page).group(1)
    task_page = client.get(task_url).get_data(as_text=True)
    assert client.post(task_url, data={"accepted": "true"}).status_code == 400  # token missing
    response = client.post(task_url, data={"accepted": "true", "csrf_token": token_of(task_page)},
                           follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "已办理：受理审查" in html
    assert "分析研判" in html  # the next step is now the current one
