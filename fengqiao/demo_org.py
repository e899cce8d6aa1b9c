"""The demo organisation as data: the 行政区划 tree of the seed localities, the departments stationed
at each center and the people who work there, built with the same functions the admin UI uses.

Codes down to the county are the real 行政区划代码. Codes below a county (9-digit 乡镇/街道, 12-digit
村/社区, 15-digit 网格) are illustrative: they extend their parent's code as real ones do, but they are
not the official numbers, and the village names are plausible rather than checked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from engine import jurisdictions
from engine.accounts import hash_password
from engine.models import User
from engine.people import grant, save_department, save_user
from engine.task_meta import ROLES

DEMO_PASSWORD = "fengqiao2026"

# code, name, level, parent code, center name (None: no center of its own), username prefix
PLACES: list[tuple[str, str, str, str | None, str | None, str]] = [
    ("150000", "内蒙古自治区", "province", None, None, ""),
    ("150200", "包头市", "city", "150000", "包头市社会治理综合服务中心", "baotou"),
    ("150202", "东河区", "county", "150200", "东河区社会治理综合服务中心", "donghe"),
    ("150202001", "西脑包街道", "township", "150202", "西脑包街道综治中心", "xinaobao"),
    ("150202001001", "财神庙社区", "village", "150202001", "财神庙社区综治站", "caishenmiao"),
    ("150202100", "河东镇", "township", "150202", "河东镇综治中心", "hedong"),
    ("150202100001", "东兴村", "village", "150202100", "东兴村综治站", "dongxing"),
    ("150203", "昆都仑区", "county", "150200", "昆都仑区社会治理综合服务中心", "kundulun"),
    ("150203001", "少先路街道", "township", "150203", "少先路街道综治中心", "shaoxianlu"),
    ("150203001001", "团结社区", "village", "150203001", "团结社区综治站", "tuanjie"),
    ("150203001001001", "团结社区第一网格", "grid", "150203001001", None, ""),
    ("150203001001002", "团结社区第二网格", "grid", "150203001001", None, ""),
    ("150203100", "卜尔汉图镇", "township", "150203", "卜尔汉图镇综治中心", "buerhantu"),
    ("150203100001", "毛忽洞村", "village", "150203100", "毛忽洞村综治站", "maohudong"),
    ("150204", "青山区", "county", "150200", "青山区社会治理综合服务中心", "qingshan"),
    ("150204001", "幸福路街道", "township", "150204", "幸福路街道综治中心", "xingfulu"),
    ("150204001001", "光荣社区", "village", "150204001", "光荣社区综治站", "guangrong"),
    ("150204100", "兴胜镇", "township", "150204", "兴胜镇综治中心", "xingsheng"),
    ("150204100001", "大井坪村", "village", "150204100", "大井坪村综治站", "dajingping"),
    ("150207", "九原区", "county", "150200", "九原区社会治理综合服务中心", "jiuyuan"),
    ("150207001", "沙河街道", "township", "150207", "沙河街道综治中心", "shahe"),
    ("150207001001", "西水桥社区", "village", "150207001", "西水桥社区综治站", "xishuiqiao"),
    ("150207002", "萨如拉街道", "township", "150207", "萨如拉街道综治中心", "saruola"),
    ("150207002001", "富康社区", "village", "150207002", "富康社区综治站", "fukang"),
    ("150207100", "哈林格尔镇", "township", "150207", "哈林格尔镇综治中心", "halinger"),
    ("150207100001", "新光一村", "village", "150207100", "新光一村综治站", "xinguang"),
    ("150207100001001", "新光一村一组网格", "grid", "150207100001", None, ""),
    ("150207100001002", "新光一村二组网格", "grid", "150207100001", None, ""),
    ("150207100002", "新河村", "village", "150207100", "新河村综治站", "xinhe"),
    ("150207101", "麻池镇", "township", "150207", "麻池镇综治中心", "machi"),
    ("150207101001", "后营盘村", "village", "150207101", "后营盘村综治站", "houyingpan"),
    ("150222", "固阳县", "county", "150200", "固阳县综治中心", "guyang"),
    ("150222100", "金山镇", "township", "150222", "金山镇综治中心", "jinshan"),
    ("150222100001", "红泥井村", "village", "150222100", "红泥井村综治站", "hongnijing"),
    ("150222101", "西斗铺镇", "township", "150222", "西斗铺镇综治中心", "xidoupu"),
    ("150222101001", "马鞍山村", "village", "150222101", "马鞍山村综治站", "maanshan"),
    ("150600", "鄂尔多斯市", "city", "150000", "鄂尔多斯市社会治理综合服务中心", "ordos"),
    ("150621", "达拉特旗", "county", "150600", "达拉特旗社会治理综合服务中心", "dalate"),
    ("150621001", "工业街道", "township", "150621", "工业街道综治中心", "gongye"),
    ("150621001001", "锦绣社区", "village", "150621001", "锦绣社区综治站", "jinxiu"),
    ("150621001001001", "锦绣社区第一网格", "grid", "150621001001", None, ""),  # 工业街道: 小事 go to the grid's 网格员
    ("150621002", "昭君街道", "township", "150621", "昭君街道综治中心", "zhaojun"),
    ("150621002001", "民生社区", "village", "150621002", "民生社区综治站", "minsheng"),
    ("150621002001001", "民生社区第一网格", "grid", "150621002001", None, ""),
    ("150621002001002", "民生社区第二网格", "grid", "150621002001", None, ""),
    ("150621100", "白泥井镇", "township", "150621", "白泥井镇综治中心", "bainijing"),
    ("150621100001", "侯家营子村", "village", "150621100", "侯家营子村综治站", "houjiayingzi"),
    ("150621100001001", "侯家营子村一社网格", "grid", "150621100001", None, ""),
    ("150621100002", "王庆河村", "village", "150621100", "王庆河村综治站", "wangqinghe"),
    ("620000", "甘肃省", "province", None, None, ""),
    ("621000", "庆阳市", "city", "620000", "庆阳市社会治理综合服务中心", "qingyang"),
    ("621024", "合水县", "county", "621000", "合水县社会治理综合服务中心", "heshui"),
    ("621024100", "西华池镇", "township", "621024", "西华池镇综治中心", "xihuachi"),
    ("621024100001", "东关村", "village", "621024100", "东关村综治站", "dongguan"),
    ("621024101", "老城镇", "township", "621024", "老城镇综治中心", "laocheng"),
    ("621024101001", "张举塬村", "village", "621024101", "张举塬村综治站", "zhangjuyuan"),
    ("621024102", "太白镇", "township", "621024", "太白镇综治中心", "taibai"),
    ("621024102001", "太白村", "village", "621024102", "太白村综治站", "taibaicun"),
    ("620900", "酒泉市", "city", "620000", "酒泉市社会治理综合服务中心", "jiuquan"),
    ("620902", "肃州区", "county", "620900", "肃州区社会治理综合服务中心", "suzhou"),
    ("620902001", "东北街街道", "township", "620902", "东北街街道综治中心", "dongbeijie"),
    ("620902001001", "金泉社区", "village", "620902001", "金泉社区综治站", "jinquan"),
    ("620902100", "总寨镇", "township", "620902", "总寨镇综治中心", "zongzhai"),
    ("620902100001", "清水村", "village", "620902100", "清水村综治站", "qingshuicun"),
    ("620902101", "果园镇", "township", "620902", "果园镇综治中心", "guoyuan"),
    ("620902101001", "丁家坝村", "village", "620902101", "丁家坝村综治站", "dingjiaba"),
]

# Departments stationed at every center of a level: code, name, presence, rotation (days from today,
# or None), the liaison who answers for it (one person may answer for several names of one body).
# Names a routing table outputs are spelled exactly as the DMN spells them ("县（区）…"), because a
# liaison task finds its queue by that name; the tables spell some bodies two ways, so both are here.
Rotation = tuple[int, int] | None
COUNTY_DEPARTMENTS: list[tuple[str, str, str, Rotation, str]] = [
    ("police", "县（区）公安局", "resident", None, "police"),
    ("traffic_police", "县（区）公安局交通管理大队", "resident", None, "traffic"),
    ("justice", "县（区）司法局", "resident", None, "justice"),
    ("people_mediation", "县（区）人民调解委员会", "resident", None, "justice"),
    ("multi_mediation", "县矛盾纠纷多元化解中心", "resident", None, "mediation"),
    ("multi_mediation_qu", "县（区）矛盾纠纷多元化解中心", "resident", None, "mediation"),
    ("petition", "县（区）信访局", "resident", None, "petition"),
    ("labour_mediation", "县（区）劳动人事争议调解中心", "resident", None, "labour"),
    ("court", "县（区）人民法院诉讼服务中心", "resident", None, "court"),
    ("labour_inspection", "县（区）人社局劳动保障监察大队", "rotating", (-40, 50), "inspection"),
    ("housing", "县（区）住房和城乡建设局", "rotating", (-20, 70), "housing"),
    ("natural_resources", "县（区）自然资源局", "rotating", (-75, 15), "land"),
    ("environment", "县生态环境局", "rotating", (10, 100), "environment"),
    ("health", "县（区）卫生健康委员会", "on_call", None, "health"),
    ("medical_mediation", "县（区）医疗纠纷人民调解委员会", "on_call", None, "medical"),
    ("medical_mediation_health", "县（区）医疗纠纷人民调解委员会（卫健部门参与）", "on_call", None, "medical"),
    ("medical_mediation_joint", "县（区）医疗纠纷人民调解委员会（公安、卫健联合调处）", "on_call", None, "medical"),
    ("market", "县（区）市场监督管理局", "on_call", None, "market"),
    ("commercial", "县商事调解组织", "on_call", None, "commercial"),
    ("family", "县婚姻家庭纠纷人民调解委员会", "on_call", None, "family"),
    ("property", "县（区）物业纠纷人民调解委员会", "on_call", None, "property"),
]
LIAISON_BODIES = {  # liaison suffix -> how the person's title reads
    "police": "公安局", "traffic": "交管大队", "justice": "司法局", "mediation": "矛调中心", "petition": "信访局",
    "labour": "劳动争议调解中心", "court": "法院", "inspection": "劳动监察", "housing": "住建局",
    "land": "自然资源局", "environment": "生态环境局", "health": "卫健委", "medical": "医调委",
    "market": "市场监管局", "commercial": "商事调解", "family": "婚调委", "property": "物调委",
}
# Bodies a county stations under its own names, as its variant.toml [department_map] renames the routing
# tables' generic ones (固阳县's 一类一流程一办理: one industry body per category). Each is answered for by
# the county liaison of the matching body above, so no account is added and no other name changes.
LOCAL_COUNTY_DEPARTMENTS: dict[str, list[tuple[str, str, str, Rotation, str]]] = {
    "150222": [
        ("gy_property", "固阳县物业纠纷人民调解委员会", "on_call", None, "property"),
        ("gy_traffic", "固阳县道路交通事故纠纷人民调解委员会", "on_call", None, "traffic"),
        ("gy_labour", "固阳县劳动人事争议调解委员会", "resident", None, "labour"),
        ("gy_medical", "固阳县医疗纠纷人民调解委员会", "on_call", None, "medical"),
        ("gy_family", "固阳县婚姻家庭纠纷人民调解委员会", "on_call", None, "family"),
        ("gy_consumer", "固阳县消费纠纷调解委员会", "on_call", None, "market"),
        ("gy_commercial", "固阳县商事纠纷调解委员会", "on_call", None, "commercial"),
        ("gy_land", "固阳县土地林权纠纷调解委员会", "on_call", None, "land"),
        ("gy_expropriation", "固阳县征地拆迁纠纷调解委员会", "on_call", None, "housing"),
        ("gy_people", "固阳县人民调解委员会", "resident", None, "justice"),
        ("gy_multi", "固阳县矛盾纠纷多元化解中心", "resident", None, "mediation"),
    ],
}
TOWNSHIP_DEPARTMENTS: list[tuple[str, str, str, Rotation]] = [
    ("people_mediation", "乡镇人民调解委员会", "resident", None),
    ("people_mediation_jd", "乡镇（街道）人民调解委员会", "resident", None),
    ("land_mediation", "乡镇人民调解委员会（农经站、林业站参与）", "resident", None),
    ("center_office", "乡镇（街道）综治中心", "resident", None),
    ("police_station", "派出所", "resident", None),
    ("traffic_squad", "交警中队（警调对接工作室）", "resident", None),
    ("labour_mediation", "乡镇（街道）劳动争议调解组织", "rotating", (-30, 60)),
    ("market_office", "市场监督管理所", "on_call", None),
]
STREET_DEPARTMENTS = [("property_mediation", "街道物业纠纷人民调解委员会", "on_call", None)]  # 街道 only
VILLAGE_DEPARTMENTS: list[tuple[str, str, str, Rotation]] = [
    ("people_mediation", "村人民调解委员会", "resident", None),
    ("people_mediation_sq", "村（社区）人民调解委员会", "resident", None),
]
CITY_DEPARTMENTS: list[tuple[str, str, str, Rotation]] = [
    ("petition", "市信访局", "resident", None),
    ("court", "市中级人民法院诉讼服务中心", "resident", None),
    ("hrss", "市人力资源和社会保障局", "rotating", (-60, 30)),
    ("lawyers", "市律师协会律师调解中心", "on_call", None),
]

# Staff of a center by level: username suffix, roles, the nickname after the surname, the title shown.
STAFF: dict[str, list[tuple[str, tuple[str, ...], str, str]]] = {
    "city": [
        ("director", ("director",), "主任", "市级中心主任"),
        ("manager", ("manager",), "政法", "市委政法委管理者"),
        ("designer", ("designer",), "设计", "流程设计员"),
        ("admin", ("admin",), "管理", "系统管理员"),
        ("clerk", ("clerk", "analyst"), "窗口", "窗口受理员·研判员"),
        ("mediator", ("mediator",), "调解", "调解员"),
        ("liaison", ("liaison",), "联络", "部门联络员"),
    ],
    "county": [
        ("clerk", ("clerk",), "窗口", "窗口受理员"),
        ("analyst", ("analyst",), "研判", "研判员"),
        ("mediator", ("mediator",), "调解", "调解员·A岗"),
        ("mediator.b", ("mediator",), "调解", "调解员·B岗"),
        ("director", ("director",), "主任", "中心主任"),
        ("manager", ("manager",), "政法", "政法委管理者"),
        ("admin", ("admin",), "管理", "系统管理员"),
        # Coordinates the stationed departments; takes liaison work the routing names no department for.
        ("liaison", ("liaison",), "协调", "部门联络员·综合协调"),
    ],
    "township": [
        ("director", ("director",), "主任", "综治中心主任"),
        ("clerk", ("clerk", "analyst"), "窗口", "窗口受理员·研判员"),
        ("mediator", ("mediator",), "调解", "调解员"),
        ("liaison", ("liaison",), "专干", "部门联络员"),
    ],
    "village": [
        ("director", ("director",), "站长", "综治站站长"),
        ("clerk", ("clerk", "analyst", "liaison"), "专干", "综治专干"),
        ("mediator", ("mediator",), "调解", "调解员"),
    ],
}
# AB岗 within a center: A's username suffix -> B's.
BACKUPS = {"county": {"mediator": "mediator.b", "mediator.b": "mediator"},
           "township": {"mediator": "director"}, "village": {"mediator": "clerk"}}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"

JIUYUAN = "150207"
KUNDULUN = "150203"
# The accounts of the first demo, kept so the README and older notes still apply.
# username, display name, roles, jurisdiction
LEGACY_USERS = [
    ("clerk", "王窗口（窗口受理员）", ("clerk",), JIUYUAN),
    ("analyst", "李研判（研判员）", ("analyst",), JIUYUAN),
    ("mediator", "张调解（调解员）", ("mediator",), JIUYUAN),
    ("director", "赵主任（中心主任）", ("director",), JIUYUAN),
    ("admin", "系统管理员（全部角色）", tuple(ROLES), JIUYUAN),
    ("kdl", "昆都仑区演示用户（全部角色）", ("clerk", "analyst", "mediator", "director"), KUNDULUN),
]
# The A of AB岗 who is away when the demo starts, so their B is seen covering.
ABSENT_USER = "kundulun.mediator"


@dataclass
class Organisation:
    """What was built: places by code, and the demo users with their roles."""

    # code -> (name, level, parent code, center name)
    places: dict[str, tuple[str, str, str | None, str | None]] = field(default_factory=dict)
    users: list[tuple[str, str, tuple[str, ...], str]] = field(default_factory=list)  # username, display, roles, code
    departments: int = 0

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _name, level, _parent, _center in self.places.values():
            counts[level] = counts.get(level, 0) + 1
        return counts

    def path_name(self, code: str) -> str:
        """包头市九原区哈林格尔镇新光一村: the names from the city down (provinces left out)."""
        names = []
        while code:
            name, level, parent, _center = self.places[code]
            if level != "province":
                names.append(name)
            code = parent or ""
        return "".join(reversed(names))

    def county_of(self, code: str) -> str:
        while self.places[code][1] not in ("county", "city", "province"):
            code = self.places[code][2]
        return code

    def centers(self, level: str | None = None) -> list[str]:
        return [code for code, (_n, lvl, _p, center) in self.places.items() if center and level in (None, lvl)]


def build_organisation(session: Session, today: date) -> Organisation:
    """Create the tree, its departments and its staff; commits. `today` anchors the rotations."""
    org = Organisation()
    # Held while building so the checks' session.get() finds them in the identity map, not the database.
    rows: list = []
    for code, name, level, parent, center, _prefix in PLACES:
        rows.append(jurisdictions.save(session, code, name, level, parent, center))
        org.places[code] = (name, level, parent, center)
    session.flush()
    # One hash for every demo account: hashing is deliberately slow (≈0.2 s), and all share a password.
    password_hash = hash_password(DEMO_PASSWORD)
    surnames = iter(SURNAMES * 20)
    for code, name, level, _parent, center, prefix in PLACES:
        if not center:
            continue
        departments = _stations(session, code, name, level, today, rows)
        org.departments += len(departments)
        created = {}
        for suffix, roles, nickname, title in STAFF[level]:
            username = f"{prefix}.{suffix}"
            display = f"{name}·{next(surnames)}{nickname}（{title}）"
            created[suffix] = _add_user(session, org, password_hash, username, display, code, roles)
        if level == "county":
            _county_liaisons(session, org, password_hash, code, name, prefix, departments, surnames)
        for a_suffix, b_suffix in BACKUPS.get(level, {}).items():
            save_user(session, created[a_suffix].username, created[a_suffix].display_name, code,
                      backup_username=created[b_suffix].username, phone=created[a_suffix].phone)
    for username, display, roles, code in LEGACY_USERS:
        _add_user(session, org, password_hash, username, display, code, roles)
    # One 网格员 per grid, reporting from it (/grid); added last so no other account's name or phone changes.
    for code, name, level, _parent, _center, _prefix in PLACES:
        if level == "grid":
            _add_user(session, org, password_hash, f"{code}.grid_worker", f"{name}·{next(surnames)}网格（网格员）",
                      code, ("grid_worker",))
    session.commit()
    return org


def _stations(session: Session, code: str, name: str, level: str, today: date, keep: list) -> dict[str, int]:
    """The departments stationed at one center: code -> department id."""
    rows = {"city": CITY_DEPARTMENTS, "township": TOWNSHIP_DEPARTMENTS, "village": VILLAGE_DEPARTMENTS,
            "county": [row[:4] for row in COUNTY_DEPARTMENTS + LOCAL_COUNTY_DEPARTMENTS.get(code, [])]}[level]
    if level == "township" and name.endswith("街道"):
        rows = rows + STREET_DEPARTMENTS
    stationed = {}
    for dept_code, dept_name, presence, rotation in rows:
        start = today + timedelta(days=rotation[0]) if rotation else None
        end = today + timedelta(days=rotation[1]) if rotation else None
        stationed[dept_code] = save_department(session, code, dept_code, dept_name, presence, start, end)
    session.flush()
    keep += stationed.values()
    return {dept_code: row.id for dept_code, row in stationed.items()}


def _county_liaisons(session, org, password_hash, code, name, prefix, departments, surnames) -> None:
    """One 部门联络员 per stationed body, holding the liaison role for each of its department names."""
    by_body: dict[str, list[int]] = {}
    for dept_code, _name, _presence, _rotation, body in COUNTY_DEPARTMENTS + LOCAL_COUNTY_DEPARTMENTS.get(code, []):
        by_body.setdefault(body, []).append(departments[dept_code])
    for body, department_ids in by_body.items():
        username = f"{prefix}.liaison.{body}"
        display = f"{name}·{next(surnames)}联络（{LIAISON_BODIES[body]}部门联络员）"
        user = _add_user(session, org, password_hash, username, display, code, ())
        for department_id in department_ids:
            grant(session, user, "liaison", code, department_id)
        org.users[-1] = (username, display, ("liaison",), code)


def _add_user(session: Session, org: Organisation, password_hash: str, username: str, display: str, code: str,
              roles) -> User:
    # The row is created with the shared hash, then save_user fills and checks it as the admin UI would.
    session.add(User(username=username, display_name=display, password_hash=password_hash,
                     jurisdiction_code=code, failed_logins=0))
    session.flush()
    phone = f"139{(int(code[:6]) * 31 + len(org.users) * 7919) % 10 ** 8:08d}"
    user = save_user(session, username, display, code, phone=phone)
    for role in roles:
        grant(session, user, role, code)
    org.users.append((username, display, tuple(roles), code))
    return user
