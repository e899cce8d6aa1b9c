"""筛选视图 of 九原区: the 政法委 manager keeps a private view, shares one with the other 政法委 managers
of the county (本组) and one with everyone who reads the county (本辖区). Who sees which: the other
manager, the center's director, the county's clerk, a township director, the city's manager and a
manager of 昆都仑区. Views that cannot be saved say which field is wrong; only the owner deletes."""
from __future__ import annotations

import pytest

from engine.actors import Actor
from engine.errors import NotFound
from engine.models import SavedView
from engine.saved_views import ViewError, delete_view, save_view, visible_views

JIUYUAN, TOWN = "150207", "150207001"
OWNER = Actor.of("zfw_wang", {"manager"}, JIUYUAN, "王政法")
COLLEAGUE = Actor.of("zfw_li", {"manager"}, JIUYUAN, "李政法")
DIRECTOR = Actor.of("director", {"director"}, JIUYUAN, "赵主任")
CLERK = Actor.of("clerk", {"clerk"}, JIUYUAN, "王受理")
TOWN_DIRECTOR = Actor.of("town_director", {"director"}, TOWN, "街道主任")
CITY = Actor.of("city", {"manager"}, "150200", "包头市政法委")
OUTSIDER = Actor.of("outsider", {"manager"}, "150203", "昆都仑区政法委")


@pytest.fixture
def views(sessions, clock):
    with sessions() as session:
        saved = {
            "private": save_view(session, OWNER, "我的本月", "private", "cockpit", {"period": "2026-03"}, clock.now()),
            "team": save_view(session, OWNER, "街道考核", "team", "performance",
                              {"scope": TOWN, "period": "2026-Q1", "sort": "-resolution_rate"}, clock.now()),
            "jurisdiction": save_view(session, OWNER, "本月超期案件", "jurisdiction", "cases",
                                      {"metric": "overdue", "scope": JIUYUAN, "period": "2026-03"}, clock.now()),
            "cockpit": save_view(session, OWNER, "全区驾驶舱", "jurisdiction", "cockpit", {"period": "2026-03"},
                                 clock.now()),
        }
        session.commit()
        return {key: view.id for key, view in saved.items()}


def names(sessions, actor, page=None) -> set[str]:
    with sessions() as session:
        return {view.name for view in visible_views(session, actor, page)}


def test_each_view_is_listed_to_whom_it_is_shared_with_and_who_may_open_it(sessions, views):
    assert names(sessions, OWNER) == {"我的本月", "街道考核", "本月超期案件", "全区驾驶舱"}
    assert names(sessions, COLLEAGUE) == {"街道考核", "本月超期案件", "全区驾驶舱"}
    assert names(sessions, DIRECTOR) == {"本月超期案件", "全区驾驶舱"}  # not the managers' team
    assert names(sessions, CLERK) == {"本月超期案件"}  # the case list, not the cockpit they cannot open
    assert names(sessions, TOWN_DIRECTOR) == set()  # does not read the county
    assert names(sessions, CITY) == {"本月超期案件", "全区驾驶舱"}  # reads the county from above
    assert names(sessions, OUTSIDER) == set()
    assert names(sessions, COLLEAGUE, page="cases") == {"本月超期案件"}


def test_a_view_keeps_the_scope_it_was_saved_with(sessions, views):
    with sessions() as session:
        view = session.get(SavedView, views["private"])
        assert view.params == {"period": "2026-03", "scope": JIUYUAN}  # the owner's county, written in
        assert (view.owner, view.role, view.jurisdiction_code, view.page) == ("zfw_wang", "manager", JIUYUAN, "cockpit")


@pytest.mark.parametrize("name, shared_with, page, params, field, message", [
    ("", "private", "cockpit", {}, "name", "1–40"),
    ("很" * 41, "private", "cockpit", {}, "name", "1–40"),
    ("视图", "everyone", "cockpit", {}, "shared_with", "everyone"),
    ("视图", "private", "reports", {}, "page", "reports"),
    ("视图", "private", "cockpit", {"password": "x"}, "params", "password"),
    ("视图", "private", "cockpit", {"scope": "150203"}, "params", "150203"),
])
def test_a_view_that_cannot_be_saved_names_the_field_and_saves_nothing(sessions, clock, name, shared_with, page,
                                                                      params, field, message):
    with sessions() as session:
        with pytest.raises(ViewError, match=message) as raised:
            save_view(session, OWNER, name, shared_with, page, params, clock.now())
        assert raised.value.field == field
        session.rollback()
        assert session.query(SavedView).count() == 0


def test_only_the_cockpit_roles_save_views(sessions, clock):
    with sessions() as session:
        with pytest.raises(ViewError) as raised:
            save_view(session, CLERK, "我的", "private", "cases", {"metric": "open"}, clock.now())
    assert raised.value.field == "role"


def test_only_the_owner_deletes_a_view(sessions, views):
    with sessions() as session:
        with pytest.raises(NotFound):
            delete_view(session, COLLEAGUE, views["team"])
        with pytest.raises(NotFound):
            delete_view(session, OWNER, 9999)
        delete_view(session, OWNER, views["team"])
        session.commit()
    assert "街道考核" not in names(sessions, OWNER)
