"""The demo a new user sees: the seed localities' organisation, people who can log in, and cases with
real histories in the past, each waiting task offered to someone who can take it."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine.accounts import PasswordAuthenticator
from engine.actors import code_covers
from engine.assignment import get_visible_case
from engine.calendar import SHANGHAI
from engine.clock import FakeClock
from engine.models import Case, CaseEvent, Department, HumanTask, Jurisdiction, RoleGrant, User
from engine.people import actor_for
from engine.task_meta import ROLES
from fengqiao.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
from fengqiao.demo_org import ABSENT_USER, PLACES
from web import create_app
from web.extensions import db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday morning in Baotou


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo (30 cases) seeded once for every test here."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "t", "CLOCK": FakeClock(NOW)})
    with app.app_context():
        summary = seed_demo(db.session, app.extensions["fengqiao"], cases=30)
        yield app, summary


def test_the_tree_has_every_level_and_every_code_extends_its_parents(demo):
    app, _summary = demo
    places = {row.code: row for row in db.session.scalars(select(Jurisdiction))}
    assert {row.level for row in places.values()} == {"province", "city", "county", "township", "village", "grid"}
    for row in places.values():
        if row.parent_code:
            parent = places[row.parent_code]
            assert code_covers(parent.code, row.code) and row.code != parent.code
        assert (row.center_name is None) == (row.level in ("province", "grid"))
    # The seed localities, with their real 行政区划代码.
    for code, name in (("150200", "包头市"), ("150207", "九原区"), ("150203", "昆都仑区"), ("150222", "固阳县"),
                       ("621024", "合水县"), ("620902", "肃州区"), ("150621", "达拉特旗")):
        assert places[code].name == name
    assert {"白泥井镇", "工业街道", "昭君街道"} <= {row.name for row in places.values() if row.parent_code == "150621"}


def test_departments_are_stationed_resident_rotating_and_on_call(demo):
    presences = set(db.session.scalars(select(Department.presence)))
    assert presences == {"resident", "rotating", "on_call"}
    rotating = db.session.scalars(select(Department).where(Department.presence == "rotating")).all()
    assert all(row.rotation_start <= row.rotation_end for row in rotating)
    assert any(row.rotation_start <= NOW.date() <= row.rotation_end for row in rotating)


def test_every_role_is_held_and_the_demo_accounts_log_in(demo):
    assert set(db.session.scalars(select(RoleGrant.role))) == set(ROLES)
    users = db.session.scalar(select(func.count()).select_from(User))
    assert users == len(set(db.session.scalars(select(User.username))))
    authenticator = PasswordAuthenticator()
    for username in ("clerk", DEMO_USERS[-1][0], "jiuyuan.mediator", "jiuyuan.liaison.police", "bainijing.director"):
        assert authenticator.authenticate(db.session, username, DEMO_PASSWORD, NOW).username == username
    absent = db.session.scalars(select(User).where(User.username == ABSENT_USER)).one()
    assert absent.absent_until > NOW and absent.backup_username == f"{ABSENT_USER}.b"


def test_cases_lie_in_several_localities_and_states(demo):
    _app, summary = demo
    cases = db.session.scalars(select(Case)).all()
    assert len(cases) == 30
    assert {case.status for case in cases} >= {"open", "concluded"}
    counties = {case.jurisdiction_code[:6] for case in cases}
    assert len(counties) >= 4
    assert len({case.category_code for case in cases}) == 17
    assert db.session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready")) > 0
    assert "30 cases" in summary and "jiuyuan." in summary


def test_every_waiting_task_is_offered_to_a_demo_user_who_can_take_it(demo):
    actors = [actor_for(db.session, user, NOW) for user in db.session.scalars(select(User))]
    for task in db.session.scalars(select(HumanTask).where(HumanTask.state == "ready")):
        takers = [actor for actor in actors if actor.can_take(task.role, task.jurisdiction_code, task.department_id)
                  and get_visible_case(db.session, actor, task.case_id) is not None]
        assert takers, f"nobody may take {task.name} ({task.role}) at {task.jurisdiction_code}"


def test_every_event_lies_in_the_past(demo):
    assert db.session.scalar(select(func.max(CaseEvent.at))) <= NOW
    assert db.session.scalar(select(func.min(CaseEvent.at))) < NOW.replace(month=8)


def test_seeding_twice_adds_nothing(demo):
    app, _summary = demo
    assert seed_demo(db.session, app.extensions["fengqiao"]).startswith("demo data already present")


def test_places_are_listed_parents_first():
    seen = set()
    for code, _name, _level, parent, _center, _prefix in PLACES:
        assert parent is None or parent in seen
        seen.add(code)


def test_channel_cases_came_in_through_the_api_path_and_the_printed_token_works(demo):
    app, summary = demo
    from fengqiao.demo_channels import demo_token

    token = demo_token("hotline-12345", "150207")
    assert token in summary
    channel_cases = db.session.scalars(select(Case).where(Case.channel_id.is_not(None))).all()
    assert channel_cases and all(case.source_reference for case in channel_cases)
    response = app.test_client().get("/api/v1/channel", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["jurisdiction"] == "150207"


def test_jiuyuan_handlers_and_director_find_their_notices(demo):
    """九原区 switches 日提醒 and 周督办 on: the seeding ends by making today's and this week's."""
    from engine.models import Notice

    rows = db.session.scalars(select(Notice)).all()
    kinds = {(row.kind, row.recipient) for row in rows}
    assert any(kind == "daily_digest" and name.startswith("jiuyuan.") for kind, name in kinds)
    assert ("weekly_supervision", "jiuyuan.director") in kinds
    homes = dict(db.session.execute(select(User.username, User.jurisdiction_code)).all())
    assert all(code_covers("150207", homes[row.recipient]) for row in rows)  # nobody outside 九原区
