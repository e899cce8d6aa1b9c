"""A small 行政区划 tree of 九原区 with its centers and stations, and the people working in them.

    150207        九原区        九原区综治中心
    150207001     哈林格尔镇    哈林格尔镇综治中心
    150207001001  新河村        新河村综治站
    150207002     麻池镇        麻池镇综治中心
"""
from __future__ import annotations

from engine import jurisdictions
from engine.actors import Actor
from engine.people import save_department

COUNTY, TOWNSHIP, VILLAGE, OTHER_TOWNSHIP = "150207", "150207001", "150207001001", "150207002"
CENTERS = {COUNTY: "九原区综治中心", TOWNSHIP: "哈林格尔镇综治中心", VILLAGE: "新河村综治站",
           OTHER_TOWNSHIP: "麻池镇综治中心"}
HANDLING_ROLES = frozenset({"clerk", "analyst", "mediator", "director", "manager"})

COUNTY_STAFF = Actor.of("county_staff", HANDLING_ROLES, COUNTY, "九原区综治中心全员")
COUNTY_DIRECTOR = Actor.of("county_director", {"director"}, COUNTY, "九原区综治中心主任")
COUNTY_MEDIATOR = Actor.of("county_mediator", {"mediator"}, COUNTY, "九原区调解员")
TOWNSHIP_CLERK = Actor.of("township_clerk", {"clerk"}, TOWNSHIP, "哈林格尔镇受理员")
TOWNSHIP_MEDIATOR = Actor.of("township_mediator", {"mediator"}, TOWNSHIP, "哈林格尔镇调解员")
TOWNSHIP_DIRECTOR = Actor.of("township_director", {"director"}, TOWNSHIP, "哈林格尔镇综治中心主任")
VILLAGE_MEDIATOR = Actor.of("village_mediator", {"mediator"}, VILLAGE, "新河村调解员")
VILLAGE_DIRECTOR = Actor.of("village_director", {"director"}, VILLAGE, "新河村综治站站长")
OUTSIDER = Actor.of("kundulun", HANDLING_ROLES | {"liaison"}, "150203", "昆都仑区全员")


def build_tree(sessions) -> None:
    """Save the tree above (the caller's session factory; committed)."""
    with sessions() as session:
        jurisdictions.save(session, COUNTY, "九原区", "county", None, CENTERS[COUNTY])
        session.flush()
        jurisdictions.save(session, TOWNSHIP, "哈林格尔镇", "township", COUNTY, CENTERS[TOWNSHIP])
        jurisdictions.save(session, OTHER_TOWNSHIP, "麻池镇", "township", COUNTY, CENTERS[OTHER_TOWNSHIP])
        session.flush()
        jurisdictions.save(session, VILLAGE, "新河村", "village", TOWNSHIP, CENTERS[VILLAGE])
        session.commit()


def add_department(sessions, jurisdiction_code: str, code: str, name: str) -> int:
    """A department stationed (常驻) at a center; returns its id."""
    with sessions() as session:
        department = save_department(session, jurisdiction_code, code, name, "resident")
        session.commit()
        return department.id
