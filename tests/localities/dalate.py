"""达拉特旗 as the seed 003 describes it, for the scenario tests of 白泥井镇 and 工业街道: the tree
(county, the two townships, their villages/communities) and one user per role and center, stored
as users so that engine code reading users (AB岗, 谁调解谁负责) sees them."""
from __future__ import annotations

from engine import jurisdictions, people
from engine.actors import Actor
from engine.people import actor_for

COUNTY = "150621"
BAINIJING, HOUJIAYINGZI, WANGQINGHE = "150621100", "150621100001", "150621100002"
GONGYE, JINXIU = "150621001", "150621001001"
TREE = [  # code, name, level, parent, center
    (COUNTY, "达拉特旗", "county", None, "达拉特旗社会治理综合服务中心"),
    (BAINIJING, "白泥井镇", "township", COUNTY, "白泥井镇综治中心"),
    (HOUJIAYINGZI, "侯家营子村", "village", BAINIJING, "侯家营子村综治站"),
    (WANGQINGHE, "王庆河村", "village", BAINIJING, "王庆河村综治站"),
    (GONGYE, "工业街道", "township", COUNTY, "工业街道综治中心"),
    (JINXIU, "锦绣社区", "village", GONGYE, "锦绣社区综治站"),
    (JINXIU + "001", "锦绣社区第一网格", "grid", JINXIU, None),
]


def build(sessions) -> None:
    with sessions() as session:
        for code, name, level, parent, center in TREE:
            jurisdictions.save(session, code, name, level, parent, center)
            session.flush()
        session.commit()


def user(sessions, clock, username: str, roles, code: str, *, department_id: int | None = None,
         backup: str | None = None) -> Actor:
    """A stored user holding `roles` at `code`; returns their Actor as the engine sees them."""
    with sessions() as session:
        row = people.save_user(session, username, username, code, password="fengqiao2026", backup_username=backup)
        session.flush()
        for role in roles:
            people.grant(session, row, role, code, department_id if role == "liaison" else None)
        session.commit()
        return actor_for(session, row, clock.now())


def department(sessions, code: str, dept_code: str, name: str) -> int:
    with sessions() as session:
        row = people.save_department(session, code, dept_code, name, "resident")
        session.commit()
        return row.id
