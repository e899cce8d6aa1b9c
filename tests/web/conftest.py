"""An app on a fresh SQLite file with a fake clock, and the staff of 九原区 (150207) and 昆都仑区 (150203)."""
from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.clock import FakeClock
from engine.models import Case, CaseEvent, HumanTask, RoleGrant, User
from web import create_app
from web.auth import hash_password
from web.extensions import db

PASSWORD = "fengqiao-2026"
ALL_ROLES = ["clerk", "analyst", "mediator", "liaison", "director", "manager", "admin"]
STAFF = [
    # username, display name, roles, jurisdiction
    ("clerk", "王受理", ["clerk"], "150207"),
    ("analyst", "李研判", ["analyst"], "150207"),
    ("mediator", "张调解", ["mediator"], "150207"),
    ("director", "赵主任", ["director"], "150207"),
    ("admin", "孙管理", ["admin"], "150207"),
    ("other", "昆都仑区全能", ALL_ROLES, "150203"),
]
APPLICANT_ID_NUMBER = "150207196505121234"
APPLICANT_PHONE = "13800138000"
NEIGHBOUR_INTAKE = {
    "title": "楼上漏水纠纷",
    "summary": "楼上住户卫生间漏水，楼下天花板受损，双方协商未果。",
    "channel": "walk_in",
    "people_count": "2",
    "amount": "3500",
    "applicant_name": "刘桂兰",
    "applicant_id_number": APPLICANT_ID_NUMBER,
    "applicant_phone": APPLICANT_PHONE,
    "respondent_name": "陈建国",
    "respondent_phone": "13912345678",
}
# The success path of processes/neighbour/neighbour.bpmn: (user, user task id, form fields as posted).
SUCCESS_PATH = [
    ("clerk", "accept", {"accepted": "true"}),
    ("analyst", "assess", {"risk_color": "黄", "complexity": "simple", "assessment": "邻里之间损失不大，可在村级调处。"}),
    ("director", "dispatch", {"handling_level": "village", "department": "村人民调解委员会"}),
    ("mediator", "mediate", {"mediation_outcome": "success", "mediation_record": "双方同意由楼上住户修复并赔偿。"}),
    ("mediator", "agreement", {"agreement_terms": "楼上住户赔偿3000元，十日内修复防水。",
                               "agreement_amount": "3000", "apply_judicial_confirmation": "false"}),
    ("clerk", "notify_result", {"notice_method": "phone"}),
    ("clerk", "follow_up", {"satisfaction": "satisfied"}),
    ("clerk", "archive", {"archive_note": "案结事了。"}),
]


def build_app(tmp_path, csrf: bool):
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.db",
        "CLOCK": clock,
        "WTF_CSRF_ENABLED": csrf,
        "SECRET_KEY": "test",
        "TESTING": True,
        # Scenarios move the clock by days while a user stays logged in; the idle timeout has its own test.
        "IDLE_TIMEOUT_SECONDS": 10 ** 9,
    })
    with app.app_context():
        for username, display_name, roles, jurisdiction in STAFF:
            add_user(username, display_name, roles, jurisdiction)
        db.session.commit()
    return app


@functools.cache
def password_hash() -> str:
    # Hashing is deliberately slow (~0.1 s); everyone shares one password, so hash it once per run.
    return hash_password(PASSWORD)


def add_user(username, display_name, roles, jurisdiction, department_id=None):
    """A user holding every role in `roles` over `jurisdiction` (department: for the liaison role)."""
    user = User(username=username, display_name=display_name, password_hash=password_hash(),
                jurisdiction_code=jurisdiction)
    user.grants = [RoleGrant(role=role, jurisdiction_code=jurisdiction,
                             department_id=department_id if role == "liaison" else None) for role in roles]
    db.session.add(user)
    return user


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path, csrf=False)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def csrf_app(tmp_path):
    app = build_app(tmp_path, csrf=True)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def clock(app):
    return app.config["CLOCK"]


@pytest.fixture
def login(app):
    """login("clerk") → a test client logged in as that user."""

    def _login(username: str):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


@pytest.fixture
def register(app):
    """register(client, **changes) → id of a neighbour case registered through 登记纠纷.

    Scenarios register the same dispute again and again: the clerk answers 「可能重复」 with
    「不是重复，继续登记」 up front (tests/web/test_duplicates_web.py covers the panel itself)."""

    def _register(client, jurisdiction="150207", **changes) -> int:
        data = {"_category": "neighbour", "_jurisdiction": jurisdiction, **NEIGHBOUR_INTAKE,
                "_duplicate_decision": "new", **changes}
        response = client.post("/cases/new", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return int(re.search(r"/cases/(\d+)$", response.headers["Location"]).group(1))

    return _register


@pytest.fixture
def db_read(app):
    """db_read(fn) → fn(session) run in an app context, for checking what was stored."""

    def _read(fn):
        with app.app_context():
            return fn(db.session)

    return _read


@pytest.fixture
def act(login, ready_task, clock):
    """act(username, case_id, element_id, fields): that user completes the case's ready task at
    `element_id` over HTTP, and an hour passes. `act.client(username)` is their logged-in client."""
    clients: dict = {}

    def client(username: str):
        return clients.setdefault(username, login(username))

    def _act(username: str, case_id: int, element_id: str, fields: dict) -> None:
        response = client(username).post(f"/tasks/{ready_task(case_id, element_id)}", data=fields)
        assert response.status_code == 302, response.get_data(as_text=True)
        clock.advance(timedelta(hours=1))

    _act.client = client
    return _act


@pytest.fixture
def ready_task(db_read):
    """ready_task(case_id, element_id) → the id of that case's ready task at `element_id`."""

    def _ready(case_id: int, element_id: str) -> str:
        return db_read(lambda s: s.query(HumanTask).filter_by(
            case_id=case_id, element_id=element_id, state="ready").one().id)

    return _ready


@pytest.fixture
def event_count(db_read):
    return lambda case_id: db_read(lambda s: s.query(CaseEvent).filter_by(case_id=case_id).count())


@pytest.fixture
def stored_case(db_read):
    return lambda case_id: db_read(lambda s: s.get(Case, case_id))


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def intake():
    """The neighbour dispute every scenario registers, as the clerk types it into 登记纠纷."""
    return dict(NEIGHBOUR_INTAKE)


@pytest.fixture
def success_path():
    return list(SUCCESS_PATH)


@pytest.fixture
def add_user_with_all_roles(csrf_app):
    """add_user_with_all_roles(username, display name): a one-person center of 九原区, for the browser."""

    def _add(username: str, display_name: str) -> None:
        with csrf_app.app_context():
            add_user(username, display_name, ALL_ROLES, "150207")
            db.session.commit()

    return _add
