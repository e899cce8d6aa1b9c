"""The organisation's rules: how the 行政区划 tree fits together, departments and their rotations,
users and the roles they are granted. The admin pages, the CLI and the importer all go through these."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from engine import jurisdictions, people
from engine.actors import Actor, Grant
from engine.jurisdictions import TreeError
from engine.models import Jurisdiction, User
from engine.org_scope import AdminScope
from engine.people import PeopleError


@pytest.fixture
def session(sessions):
    with sessions() as session:
        jurisdictions.save(session, "150200", "包头市", "city", None, "包头市综治中心")
        jurisdictions.save(session, "150207", "九原区", "county", "150200", "九原区综治中心")
        jurisdictions.save(session, "150203", "昆都仑区", "county", "150200", "昆都仑区综治中心")
        jurisdictions.save(session, "150207001", "沙河街道", "township", "150207", "沙河街道综治中心")
        session.commit()
        yield session


def refused(exc_info, field: str, words: str) -> bool:
    return exc_info.value.field == field and words in str(exc_info.value)


# -- the tree -------------------------------------------------------------------------------------

def test_a_village_may_sit_directly_under_a_county(session):
    row = jurisdictions.save(session, "150207100001", "哈林格尔村", "village", "150207", "哈林格尔村综治站")
    session.commit()
    assert [r.code for r in jurisdictions.path(session, row.code)] == ["150207100001", "150207", "150200"]


def test_a_county_cannot_sit_below_a_township(session):
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150207001001", "错位", "county", "150207001")
    assert exc.value.field in ("code", "level")


def test_a_level_must_be_lower_than_its_parents(session):
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150207002", "麻池镇", "township", "150207001")
    assert refused(exc, "code", "不在上级")  # 150207002 does not extend 150207001 either
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150207001009", "同级", "township", "150207001")
    assert refused(exc, "level", "不能设在")


def test_a_child_code_must_extend_its_parents(session):
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150203001", "昆区街道", "township", "150207")
    assert refused(exc, "code", "应以上级代码开头")


def test_code_shapes_follow_the_levels(session):
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150207", "九原区", "city", None)
    assert refused(exc, "code", "以 00 结尾")
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150300", "乌海市辖县", "county", None)
    assert refused(exc, "code", "不以 00 结尾")
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "15a207", "坏代码", "county", None)
    assert refused(exc, "code", "6 至 20 位数字")


def test_an_unknown_parent_or_level_is_refused(session):
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150299001", "无主街道", "township", "150299")
    assert refused(exc, "parent_code", "150299 不存在")
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150207003", "某镇", "town", "150207")
    assert exc.value.field == "level"


def test_a_node_cannot_be_moved_to_a_level_at_or_below_its_children(session):
    jurisdictions.save(session, "150207001001", "兴胜社区", "village", "150207001", "兴胜社区综治站")
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150207001", "沙河街道", "village", "150207", "沙河街道综治中心")
    assert refused(exc, "level", "兴胜社区")


def test_a_center_with_departments_keeps_its_name(session):
    people.save_department(session, "150207", "court", "九原区人民法院", "resident")
    session.commit()
    with pytest.raises(TreeError) as exc:
        jurisdictions.save(session, "150207", "九原区", "county", "150200", "")
    assert exc.value.field == "center_name"


def test_chinese_level_names_are_understood():
    assert [jurisdictions.parse_level(v) for v in ("市", "旗", "区", "街道", "社区", "嘎查", "网格", "county", "乡镇（街道）")] == [
        "city", "county", "county", "township", "village", "village", "grid", "county", "township"]
    assert jurisdictions.parse_level("镇级") is None


# -- departments ----------------------------------------------------------------------------------

def test_a_rotating_department_needs_both_rotation_dates_in_order(session):
    with pytest.raises(PeopleError) as exc:
        people.save_department(session, "150207", "court", "九原区人民法院", "rotating", date(2026, 1, 1), None)
    assert refused(exc, "rotation_end", "结束日期")
    with pytest.raises(PeopleError) as exc:
        people.save_department(session, "150207", "court", "九原区人民法院", "rotating",
                               date(2026, 6, 30), date(2026, 1, 1))
    assert refused(exc, "rotation_end", "早于开始日期")
    row = people.save_department(session, "150207", "court", "九原区人民法院", "rotating",
                                 date(2026, 1, 1), date(2026, 6, 30))
    assert people.department_on_duty(row, date(2026, 3, 2)) and not people.department_on_duty(row, date(2026, 7, 1))


def test_a_resident_department_keeps_no_rotation_dates(session):
    row = people.save_department(session, "150207", "justice", "九原区司法局", "resident",
                                 date(2026, 1, 1), date(2026, 6, 30))
    assert (row.rotation_start, row.rotation_end) == (None, None)


def test_departments_are_stationed_only_at_a_center(session):
    jurisdictions.save(session, "150207001001", "兴胜社区", "village", "150207001", None)
    with pytest.raises(PeopleError) as exc:
        people.save_department(session, "150207001001", "police", "警务室", "resident")
    assert refused(exc, "jurisdiction_code", "没有综治中心")


def test_saving_a_department_again_updates_it(session):
    people.save_department(session, "150207", "court", "法院", "resident")
    people.save_department(session, "150207", "court", "九原区人民法院", "on_call", active=False)
    session.commit()
    row = people.find_department(session, "150207", "court")
    assert (row.name, row.presence, row.active) == ("九原区人民法院", "on_call", False)


# -- users and grants -----------------------------------------------------------------------------

def test_a_new_user_needs_a_password_of_eight_characters(session):
    with pytest.raises(PeopleError) as exc:
        people.save_user(session, "zhang", "张调解", "150207001")
    assert exc.value.field == "password"
    with pytest.raises(PeopleError) as exc:
        people.save_user(session, "zhang", "张调解", "150207001", password="short")
    assert refused(exc, "password", "至少需要 8 个字符") and "short" not in str(exc.value)
    user = people.save_user(session, "zhang", "张调解", "150207001", password="long-enough")
    assert check_password_hash(user.password_hash, "long-enough") and user.active


def test_a_refused_user_leaves_nothing_behind(session):
    with pytest.raises(PeopleError):
        people.save_user(session, "li", "李", "150207", password="long-enough", backup_username="nobody")
    session.commit()
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_backups_must_exist_and_not_be_oneself(session):
    people.save_user(session, "a", "甲", "150207", password="long-enough")
    with pytest.raises(PeopleError) as exc:
        people.save_user(session, "b", "乙", "150207", password="long-enough", backup_username="b")
    assert refused(exc, "backup_username", "本人")
    people.save_user(session, "b", "乙", "150207", password="long-enough", backup_username="a")
    user = people.find_user(session, "b")
    assert user.backup_username == "a"


def test_updating_a_user_keeps_their_password_and_state(session):
    user = people.save_user(session, "a", "甲", "150207", password="long-enough")
    people.set_active(user, False)
    people.save_user(session, "a", "甲某", "150207001", phone="0472-1234567")
    assert (user.display_name, user.jurisdiction_code, user.phone, user.active) == ("甲某", "150207001", "0472-1234567", False)
    assert check_password_hash(user.password_hash, "long-enough")


def test_phone_numbers_are_checked(session):
    with pytest.raises(PeopleError) as exc:
        people.save_user(session, "a", "甲", "150207", password="long-enough", phone="call me")
    assert exc.value.field == "phone"


def test_a_password_reset_lifts_a_lockout(session):
    user = people.save_user(session, "a", "甲", "150207", password="long-enough")
    now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    user.failed_logins, user.locked_until = 3, now + timedelta(minutes=10)
    assert people.is_locked(user, now)
    people.set_password(user, "a-new-password")
    assert not people.is_locked(user, now) and user.failed_logins == 0


def test_grants_name_a_known_role_and_jurisdiction(session):
    user = people.save_user(session, "a", "甲", "150207", password="long-enough")
    with pytest.raises(PeopleError) as exc:
        people.grant(session, user, "boss", "150207")
    assert exc.value.field == "role"
    with pytest.raises(PeopleError) as exc:
        people.grant(session, user, "mediator", "150299")
    assert exc.value.field == "jurisdiction_code"
    first = people.grant(session, user, "mediator", "150207001")
    assert people.grant(session, user, "mediator", "150207001") is first  # idempotent
    assert people.parse_role("调解员") == "mediator" and people.parse_role("mediator") == "mediator"


def test_only_a_liaison_is_granted_for_a_department_of_that_center(session):
    user = people.save_user(session, "a", "甲", "150207", password="long-enough")
    court = people.save_department(session, "150207", "court", "九原区人民法院", "resident")
    session.flush()
    with pytest.raises(PeopleError) as exc:
        people.grant(session, user, "mediator", "150207", court.id)
    assert refused(exc, "department", "只有部门联络员")
    with pytest.raises(PeopleError) as exc:
        people.grant(session, user, "liaison", "150207001", court.id)
    assert refused(exc, "department", "不属于 150207001")
    court.active = False
    with pytest.raises(PeopleError) as exc:
        people.grant(session, user, "liaison", "150207", court.id)
    assert refused(exc, "department", "已停用")
    court.active = True
    people.grant(session, user, "liaison", "150207", court.id)
    session.commit()
    assert [(g.role, g.department_id) for g in user.grants] == [("liaison", court.id)]


# -- what an administrator reaches ----------------------------------------------------------------

def test_an_administrator_reaches_their_subtree_only(session):
    scope = AdminScope.of(Actor("admin", frozenset({Grant("admin", "150207"), Grant("mediator", "150203")})))
    assert scope.roots == ("150207",)
    assert scope.covers("150207001") and not scope.covers("150203")
    assert scope.may_place("150207002", "150207") and not scope.may_place("150203001", "150203")
    assert scope.may_place("150207", "150200")  # its own root stays where it sits in the tree
    codes = session.scalars(select(Jurisdiction.code).where(scope.condition(Jurisdiction.code))).all()
    assert sorted(codes) == ["150207", "150207001"]


def test_a_county_administrator_cannot_manage_a_city_administrator(session):
    city_admin = people.save_user(session, "city", "市管理员", "150207", password="long-enough")
    people.grant(session, city_admin, "admin", "150200")
    clerk = people.save_user(session, "clerk", "窗口", "150207", password="long-enough")
    scope = AdminScope(("150207",))
    assert scope.may_manage(clerk) and not scope.may_manage(city_admin)
    assert AdminScope.everything().may_manage(city_admin)
