"""Pausing, resuming and extending a task's clock through the web pages."""
from __future__ import annotations

import re
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine.clock import FakeClock
from engine.models import ExtensionRequest, HumanTask
from tests.web.conftest import NEIGHBOUR_INTAKE, PASSWORD, STAFF, add_user
from web import create_app
from web.extensions import db

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture
def clock_app(tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes)
    shutil.copytree(ROOT / "tests" / "fixtures" / "clock_category" / "pausable", processes / "pausable")
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.db", "PROCESSES_DIR": processes,
        "CLOCK": FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))),
        "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test", "TESTING": True, "IDLE_TIMEOUT_SECONDS": 10 ** 9,
    })
    with app.app_context():
        for username, display_name, roles, jurisdiction in STAFF:
            add_user(username, display_name, roles, jurisdiction)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def client_for(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def pausable_task(app) -> str:
    clerk = client_for(app, "clerk")
    response = clerk.post("/cases/new", data={"_category": "pausable", "_jurisdiction": "150207", **NEIGHBOUR_INTAKE})
    assert response.status_code == 302, response.get_data(as_text=True)
    case_id = int(re.search(r"/cases/(\d+)$", response.headers["Location"]).group(1))
    with app.app_context():
        return db.session.query(HumanTask).filter_by(case_id=case_id, state="ready").one().id


def test_a_mediator_pauses_for_appraisal_and_resumes(clock_app):
    task_id = pausable_task(clock_app)
    mediator = client_for(clock_app, "mediator")
    page = mediator.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "暂停计时" in page and "鉴定" in page and "申请延期" in page

    response = mediator.post(f"/tasks/{task_id}/pause", data={"reason": "鉴定"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "已暂停计时（鉴定）" in body and "恢复计时" in body and "暂停" in body
    assert "暂停" in mediator.get("/tasks").get_data(as_text=True)

    clock_app.config["CLOCK"].advance(days=4)
    response = mediator.post(f"/tasks/{task_id}/resume", follow_redirects=True)
    assert "已恢复计时" in response.get_data(as_text=True)


def test_a_pause_for_a_reason_the_law_does_not_allow_is_refused(clock_app):
    task_id = pausable_task(clock_app)
    mediator = client_for(clock_app, "mediator")
    body = mediator.post(f"/tasks/{task_id}/pause", data={"reason": "出差"}, follow_redirects=True).get_data(as_text=True)
    assert "未能处理" in body
    with clock_app.app_context():
        assert db.session.get(HumanTask, task_id).paused_at is None


def test_an_extension_is_requested_by_the_mediator_and_approved_by_the_director(clock_app):
    task_id = pausable_task(clock_app)
    mediator = client_for(clock_app, "mediator")
    with clock_app.app_context():
        due_before = db.session.get(HumanTask, task_id).due_at
    body = mediator.post(f"/tasks/{task_id}/extension", data={"amount": "30 日", "reason": "等待鉴定结论"},
                         follow_redirects=True).get_data(as_text=True)
    assert "待中心主任审批" in body
    assert mediator.get("/extensions").status_code == 403

    director = client_for(clock_app, "director")
    listing = director.get("/extensions").get_data(as_text=True)
    assert "等待鉴定结论" in listing
    with clock_app.app_context():
        request_id = db.session.query(ExtensionRequest).one().id
    response = director.post(f"/extensions/{request_id}/decide", data={"decision": "approve", "note": "同意"},
                             follow_redirects=True)
    assert "已批准延期" in response.get_data(as_text=True)
    with clock_app.app_context():
        assert db.session.get(HumanTask, task_id).due_at > due_before

    other = client_for(clock_app, "other")  # 昆都仑区 sees nothing of 九原区
    assert other.post(f"/tasks/{task_id}/pause", data={"reason": "鉴定"}).status_code == 404
    assert "等待鉴定结论" not in other.get("/extensions").get_data(as_text=True)
