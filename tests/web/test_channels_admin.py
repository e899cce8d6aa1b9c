"""对接渠道 pages: the 九原区 administrator connects the 12345 hotline, hands it a token shown once,
revokes it, and watches the results that did not reach the hotline; 昆都仑区's administrator sees none
of it."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine import channels, jurisdictions
from engine.callbacks import deliver_due
from engine.models import Channel, ChannelNotification, ChannelToken
from web.extensions import db
from web.services import services

HOTLINE = {"code": "hotline-12345", "name": "12345政务服务便民热线", "kind": "hotline_12345",
           "callback_url": "https://12345.example.cn/fengqiao/callback"}
TOKEN_PATTERN = re.compile(r'id="revealed-token" readonly value="(fq_[^"]+)"')
SECRET_PATTERN = re.compile(r'id="revealed-secret" readonly value="([^"]+)"')


@pytest.fixture(autouse=True)
def tree(request):
    """包头市 with 九原区 (and its 哈林格尔镇) and 昆都仑区."""
    app = request.getfixturevalue("csrf_app" if "csrf_app" in request.fixturenames else "app")
    with app.app_context():
        jurisdictions.save(db.session, "150200", "包头市", "city", None, "包头市综治中心")
        jurisdictions.save(db.session, "150207", "九原区", "county", "150200", "九原区综治中心")
        jurisdictions.save(db.session, "150203", "昆都仑区", "county", "150200", "昆都仑区综治中心")
        jurisdictions.save(db.session, "150207001", "哈林格尔镇", "township", "150207", "哈林格尔镇综治中心")
        db.session.commit()


def create_hotline(client) -> int:
    response = client.post("/admin/channels/", data=HOTLINE)
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(re.search(r"/admin/channels/(\d+)/tokens", response.get_data(as_text=True)).group(1))


def issue(client, channel_id: int, place: str = "150207001") -> str:
    response = client.post(f"/admin/channels/{channel_id}/tokens", data={"jurisdiction_code": place, "note": "工单系统"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return TOKEN_PATTERN.search(response.get_data(as_text=True)).group(1)


# -- channels and tokens ----------------------------------------------------------------------------

def test_the_administrator_connects_a_channel_and_sees_its_callback_secret_once(login, db_read):
    admin = login("admin")
    response = admin.post("/admin/channels/", data=HOTLINE)

    html = response.get_data(as_text=True)
    channel = db_read(lambda s: s.scalars(select(Channel).where(Channel.code == "hotline-12345")).one())
    assert (channel.name, channel.kind, channel.callback_url, channel.created_by) == (
        HOTLINE["name"], "hotline_12345", HOTLINE["callback_url"], "admin")
    assert SECRET_PATTERN.search(html).group(1) == channel.callback_secret
    assert "离开本页后将不再显示" in html and response.headers["Cache-Control"] == "no-store"
    page = admin.get(f"/admin/channels/{channel.id}").get_data(as_text=True)
    assert channel.callback_secret not in page and HOTLINE["callback_url"] in page
    assert "12345政务服务便民热线" in admin.get("/admin/channels/").get_data(as_text=True)

    rotated = SECRET_PATTERN.search(admin.post(f"/admin/channels/{channel.id}/secret").get_data(as_text=True)).group(1)
    assert rotated != channel.callback_secret
    assert db_read(lambda s: s.get(Channel, channel.id).callback_secret) == rotated


def test_a_bad_channel_is_refused_naming_the_field(login, db_read):
    admin = login("admin")
    response = admin.post("/admin/channels/", data={**HOTLINE, "callback_url": "ftp://12345.example.cn"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "回调地址应为 http:// 或 https:// 开头的完整网址" in html
    assert 'value="12345政务服务便民热线"' in html  # what was typed stays
    assert db_read(lambda s: s.scalars(select(Channel)).all()) == []


def test_a_token_is_shown_once_only_its_hash_is_kept_and_revoking_it_locks_the_channel_out(login, db_read, clock):
    admin = login("admin")
    channel_id = create_hotline(admin)
    plain = issue(admin, channel_id)

    token = db_read(lambda s: s.scalars(select(ChannelToken)).one())
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in repr([token.prefix, token.note, token.token_hash]) and plain.startswith(token.prefix)
    page = admin.get(f"/admin/channels/{channel_id}").get_data(as_text=True)
    assert plain not in page and f"{token.prefix}…" in page and "从未使用" in page
    assert db_read(lambda s: channels.authenticate(s, plain, clock.now())) is not None

    response = admin.post(f"/admin/channels/{channel_id}/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert db_read(lambda s: s.get(ChannelToken, token.id).revoked_by) == "admin"
    assert db_read(lambda s: channels.authenticate(s, plain, clock.now())) is None
    assert "已吊销" in admin.get(f"/admin/channels/{channel_id}").get_data(as_text=True)


def test_a_token_is_issued_only_inside_the_administrators_subtree(login, db_read):
    admin = login("admin")
    channel_id = create_hotline(admin)
    response = admin.post(f"/admin/channels/{channel_id}/tokens", data={"jurisdiction_code": "150203"})
    assert response.status_code == 422 and "请选择您管辖范围内的行政区划" in response.get_data(as_text=True)
    assert db_read(lambda s: s.scalars(select(ChannelToken)).all()) == []


def test_another_countys_administrator_neither_sees_nor_changes_the_channel(login, db_read):
    channel_id = create_hotline(login("admin"))
    issue(login("admin"), channel_id)
    token_id = db_read(lambda s: s.scalars(select(ChannelToken.id)).one())
    other = login("other")  # 昆都仑区, 系统管理员 among their roles

    assert "12345政务服务便民热线" not in other.get("/admin/channels/").get_data(as_text=True)
    assert other.get(f"/admin/channels/{channel_id}").status_code == 404
    for url, data in ((f"/admin/channels/{channel_id}/callback", {"callback_url": "https://evil.example.com/"}),
                      (f"/admin/channels/{channel_id}/secret", {}),
                      (f"/admin/channels/{channel_id}/tokens", {"jurisdiction_code": "150203"}),
                      (f"/admin/channels/{channel_id}/tokens/{token_id}/revoke", {})):
        assert other.post(url, data=data).status_code == 404, url
    channel = db_read(lambda s: s.get(Channel, channel_id))
    assert channel.callback_url == HOTLINE["callback_url"]
    assert db_read(lambda s: [(t.jurisdiction_code, t.revoked_at) for t in s.scalars(select(ChannelToken))]) == [
        ("150207001", None)]


def test_a_channel_serving_two_counties_is_configured_only_above_them(app, login, db_read, clock):
    """The city's 12345 holds a token per county: 九原区 manages its own token, not the shared callback."""
    with app.app_context():
        channel = channels.create_channel(db.session, "city-12345", "包头市12345热线", "hotline_12345", "cli",
                                          clock.now(), HOTLINE["callback_url"])
        own, _ = channels.issue_token(db.session, channel, "150207", "cli", clock.now())
        foreign, _ = channels.issue_token(db.session, channel, "150203", "cli", clock.now())
        db.session.commit()
        channel_id, own_id, foreign_id = channel.id, own.id, foreign.id
    admin = login("admin")

    page = admin.get(f"/admin/channels/{channel_id}").get_data(as_text=True)
    assert "由上级管理员维护" in page and "150203" not in page
    assert admin.post(f"/admin/channels/{channel_id}/callback", data={"callback_url": ""}).status_code == 403
    assert admin.post(f"/admin/channels/{channel_id}/secret").status_code == 403
    assert admin.post(f"/admin/channels/{channel_id}/tokens/{foreign_id}/revoke").status_code == 404
    assert admin.post(f"/admin/channels/{channel_id}/tokens/{own_id}/revoke").status_code == 302
    assert db_read(lambda s: s.get(Channel, channel_id).callback_url) == HOTLINE["callback_url"]
    assert db_read(lambda s: s.get(ChannelToken, foreign_id).revoked_at) is None


def test_only_administrators_reach_the_pages(login):
    clerk = login("clerk")
    for url in ("/admin/channels/", "/admin/channels/notifications"):
        assert clerk.get(url).status_code == 403, url
    assert clerk.post("/admin/channels/", data=HOTLINE).status_code == 403


def test_every_form_carries_a_csrf_token(csrf_app, password):
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "admin", "password": password, "csrf_token": token}).status_code == 302
    assert client.post("/admin/channels/", data=HOTLINE).status_code == 400  # no token
    # Logging in starts a fresh session, and with it a fresh token.
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/channels/").get_data(as_text=True)).group(1)
    html = client.post("/admin/channels/", data={**HOTLINE, "csrf_token": token}).get_data(as_text=True)
    channel_id = int(re.search(r"/admin/channels/(\d+)/tokens", html).group(1))
    for url in ("/admin/channels/", f"/admin/channels/{channel_id}"):
        html = client.get(url).get_data(as_text=True)
        forms = re.findall(r'<form method="post".*?</form>', html, re.S)
        assert forms, url
        assert all('name="csrf_token"' in form for form in forms), url
    assert client.post(f"/admin/channels/{channel_id}/secret").status_code == 400
    assert client.post(f"/admin/channels/{channel_id}/tokens", data={"jurisdiction_code": "150207"}).status_code == 400


# -- results that did not arrive --------------------------------------------------------------------

def test_an_undelivered_result_is_listed_and_retried_at_once(app, login, db_read, clock, ready_task):
    admin = login("admin")
    channel_id = create_hotline(admin)
    plain = issue(admin, channel_id, "150207")
    with app.app_context():
        principal = channels.authenticate(db.session, plain, clock.now())
        case = channels.submit(db.session, services().runtime, principal, {
            "reference": "GD-20260302-0001", "jurisdiction": "150207", "category": "neighbour",
            "title": "楼上漏水", "facts": "楼上卫生间漏水，楼下天花板受损。",
            "applicant": {"name": "刘桂兰", "phone": "13800138000"}}).case
        case_id, case_code = case.id, case.code
    assert login("clerk").post(f"/tasks/{ready_task(case_id, 'accept')}", data={"accepted": "true"}).status_code == 302
    with app.app_context():
        deliver_due(sessionmaker(bind=db.engine, expire_on_commit=False), clock, lambda *args: 503)
    clock.advance(seconds=5)

    html = admin.get("/admin/channels/notifications").get_data(as_text=True)
    assert case_code in html and f'href="/cases/{case_id}"' in html
    assert "HTTP 503" in html and "1 次" in html and "已受理" in html and "立即重试" in html
    assert "1 条待送达" in admin.get(f"/admin/channels/{channel_id}").get_data(as_text=True)
    notification = db_read(lambda s: s.scalars(select(ChannelNotification)).one())
    assert notification.next_attempt_at == clock.now() + timedelta(seconds=25)

    other = login("other")
    assert case_code not in other.get("/admin/channels/notifications").get_data(as_text=True)
    assert other.post(f"/admin/channels/notifications/{notification.id}/retry").status_code == 404

    assert admin.post(f"/admin/channels/notifications/{notification.id}/retry").status_code == 302
    assert db_read(lambda s: s.get(ChannelNotification, notification.id).next_attempt_at) == clock.now()
    with app.app_context():
        result = deliver_due(sessionmaker(bind=db.engine, expire_on_commit=False), clock, lambda *args: 200)
    assert result.delivered == [notification.id]
    assert "所有结果均已送达" in admin.get("/admin/channels/notifications").get_data(as_text=True)
