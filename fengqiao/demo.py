"""Demo data: users for every role and neighbour cases at every stage, with real histories.

Cases are driven through the real engine on a clock that starts weeks ago and moves forward, and
due timers are swept along the way, so deadlines, 临期/超期 states and 督办 tasks are genuine.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from engine.accounts import hash_password

from engine.actors import Actor
from engine.clock import FakeClock
from engine.errors import FormInvalid, ProcessError
from engine.models import Case, HumanTask, User
from engine.runtime import CaseRuntime
from engine.timers import sweep_due_timers

from .demo_answers import answers_for

DEMO_PASSWORD = "fengqiao2026"
JIUYUAN = "150207"  # 包头市九原区
KUNDULUN = "150203"  # 包头市昆都仑区
# username, display name, roles, jurisdiction
DEMO_USERS = [
    ("clerk", "王窗口（窗口受理员）", ["clerk"], JIUYUAN),
    ("analyst", "李研判（研判员）", ["analyst"], JIUYUAN),
    ("mediator", "张调解（调解员）", ["mediator"], JIUYUAN),
    ("director", "赵主任（中心主任）", ["director"], JIUYUAN),
    ("admin", "系统管理员（全部角色）",
     ["clerk", "analyst", "mediator", "liaison", "director", "manager", "designer", "admin"], JIUYUAN),
    ("kdl", "昆都仑区演示用户（全部角色）", ["clerk", "analyst", "mediator", "director"], KUNDULUN),
]

# Two cases for every other category, answered from their forms (fengqiao.demo_answers).
CATEGORY_STORIES = {
    "marriage_family": ["离婚后子女抚养费给付纠纷", "家庭成员赡养老人纠纷"],
    "homestead": ["宅基地界址争议", "房屋漏雨维修责任纠纷"],
    "contract": ["装修工程款结算纠纷", "农资买卖合同货款纠纷"],
    "business": ["合作养殖分红纠纷", "个体商户摊位转让纠纷"],
    "damages": ["电动车碰撞致人受伤赔偿纠纷", "宠物犬咬伤赔偿纠纷"],
    "land_forest": ["林地承包边界纠纷", "土地流转租金纠纷"],
    "expropriation": ["征地补偿款分配纠纷", "房屋拆迁安置面积纠纷"],
    "environment": ["养殖场异味污染纠纷", "餐馆油烟扰民纠纷"],
    "labour": ["建筑工地农民工欠薪", "解除劳动合同经济补偿纠纷"],
    "consumer": ["预付卡健身房闭店退费纠纷", "网购家电质量退货纠纷"],
    "medical": ["手术后并发症赔偿纠纷", "诊所输液过敏损害纠纷"],
    "traffic": ["路口两车相撞赔偿纠纷", "电动自行车与行人相撞纠纷"],
    "property_management": ["物业费收缴与服务质量纠纷", "小区停车位管理纠纷"],
    "other": ["村集体经济收益分配意见", "广场舞噪音与居民纠纷"],
    "petition": ["反映征地补偿未落实信访件", "反映小区违建未处理信访件"],
    "court_referral": ["民间借贷纠纷诉前委派调解", "买卖合同纠纷诉前委派调解"],
}

STORIES = [
    # title, summary, channel, steps to take (answers per task element id, in order), days between steps
    ("楼上漏水致楼下天花板受损", "楼上住户卫生间漏水，楼下天花板发霉，双方就维修费用发生争执。", "walk_in",
     ["accept", "assess", "dispatch", "mediate_success", "agreement", "notify_result", "follow_up_ok", "archive"]),
    ("宅前通道堆放杂物引发口角", "邻居长期在公共通道堆放杂物，影响通行，多次沟通无果。", "grid",
     ["accept", "assess", "dispatch", "mediate_fail", "legal_route", "notify_result"]),
    ("装修噪音扰民", "邻居装修午休时段施工，噪音严重。", "hotline_12345",
     ["accept", "assess", "dispatch"]),
    ("空调外机排水滴落", "楼上空调外机冷凝水滴落至楼下阳台。", "walk_in",
     ["accept", "assess"]),
    ("院墙界址争议", "两户因院墙位置与宅基地界址发生争议，情绪激动。", "police_110",
     ["accept", "assess_red", "dispatch"]),
    ("宠物犬夜间吠叫", "邻居饲养的犬只夜间持续吠叫，影响休息。", "online",
     ["accept"]),
    ("共用水表费用分摊", "三户共用一块水表，对费用分摊方式有分歧。", "walk_in",
     ["reject"]),
    ("楼道电动车充电隐患", "邻居在楼道私拉电线为电动车充电，存在火灾隐患。", "grid",
     ["accept", "assess", "dispatch", "mediate_success", "agreement", "notify_result", "follow_up_bad",
      "second_supervision"]),
]

ANSWERS = {
    "accept": ("accept", {"accepted": True}),
    "reject": ("accept", {"accepted": False, "reject_reason": "属于物业服务合同纠纷，已引导至物业纠纷调解委员会。"}),
    "assess": ("assess", {"risk_color": "黄", "complexity": "ordinary", "assessment": "一般邻里纠纷，宜就地调解。"}),
    "assess_red": ("assess", {"risk_color": "红", "complexity": "complex", "assessment": "双方情绪激动，有激化风险，需领导包案。"}),
    "dispatch": ("dispatch", None),  # accept the routing decision as proposed
    "mediate_success": ("mediate", {"mediation_outcome": "success", "mediation_record": "经调解，双方达成一致。"}),
    "mediate_fail": ("mediate", {"mediation_outcome": "failure", "mediation_record": "双方分歧较大，调解不成。"}),
    "agreement": ("agreement", {"agreement_terms": "责任方承担维修费用并于十日内完成维修。", "agreement_amount": 2000,
                                "apply_judicial_confirmation": False}),
    "legal_route": ("legal_route", {"termination_reason": "一方拒绝继续调解。", "legal_route": "litigation"}),
    "notify_result": ("notify_result", {"notice_method": "phone", "notice_note": "已电话告知双方。"}),
    "follow_up_ok": ("follow_up", {"satisfaction": "satisfied", "follow_up_note": "当事人表示满意。"}),
    "follow_up_bad": ("follow_up", {"satisfaction": "dissatisfied", "follow_up_note": "认为对方未按约定整改。"}),
    "second_supervision": ("second_supervision", {"supervision_instructions": "请调解员三日内回访核实整改情况。"}),
    "archive": ("archive", {"archive_note": "材料齐全，归档。"}),
}


def seed_demo(session: Session, services, cases_per_story: int = 2) -> str:
    """Create the demo users and cases if the database has none; returns a one-line summary."""
    if session.scalar(select(func.count()).select_from(User)):
        return "demo data already present; nothing added"
    for username, display_name, roles, jurisdiction in DEMO_USERS:
        session.add(User(username=username, display_name=display_name, roles=roles, jurisdiction_code=jurisdiction,
                         password_hash=hash_password(DEMO_PASSWORD)))
    session.commit()

    real_now = services.clock.now()
    clock = FakeClock(real_now)
    runtime = CaseRuntime(services.registry, clock)
    admin = Actor("admin", frozenset(DEMO_USERS[4][2]), JIUYUAN, DEMO_USERS[4][1])
    factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
    stories = [(round_number, index, story) for round_number in range(cases_per_story)
               for index, story in enumerate(STORIES)]
    # Spread registrations over the past 60 days, oldest first; steps follow within a few days, so
    # every event lies in the past and the sweep at each registration fires what fell due meanwhile.
    for position, (round_number, index, (title, summary, channel, steps)) in enumerate(stories):
        clock.set(real_now - timedelta(days=60) + timedelta(days=60 * position / len(stories)))
        sweep_due_timers(factory, runtime)
        jurisdiction = KUNDULUN if (index + round_number) % 5 == 4 else JIUYUAN
        actor = admin if jurisdiction == JIUYUAN else Actor("kdl", admin.roles, KUNDULUN, "昆都仑区演示用户")
        intake = {"title": title, "summary": summary, "channel": channel, "people_count": 2 + index % 3,
                  "applicant_name": "张" + "伟芳娜敏静丽强磊"[index], "applicant_phone": f"1390472{index:04d}",
                  "applicant_id_number": f"15020719800101{index:03d}X", "respondent_name": "李" + "军洋勇艳杰娟涛明"[index]}
        case = runtime.start_case(session, "neighbour", intake, jurisdiction, actor)
        for step in steps:
            clock.advance(hours=2 + index % 4)
            _take_step(session, runtime, case, step, actor)
    _seed_other_categories(session, services, runtime, clock, admin, factory, real_now)
    clock.set(real_now)
    sweep_due_timers(factory, runtime)
    cases = session.scalar(select(func.count()).select_from(Case))
    open_tasks = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready"))
    return f"demo data: {len(DEMO_USERS)} users, {cases} cases, {open_tasks} open tasks"


def _take_step(session: Session, runtime: CaseRuntime, case: Case, step: str, actor: Actor) -> None:
    element_id, answers = ANSWERS[step]
    task = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready",
                                                   HumanTask.element_id == element_id)).first()
    if task is None:
        return
    if answers is None:
        defaults = task.form_defaults
        answers = {"handling_level": defaults.get("handling_level", "village"),
                   "department": defaults.get("department", "村人民调解委员会"), "dispatch_note": "按研判意见分流。"}
    runtime.complete_task(session, task.id, answers, actor)


def _seed_other_categories(session, services, runtime, clock, admin, factory, real_now) -> None:
    """Cases of every category with a story, taken a varying number of steps down their own flow."""
    stories = [(code, title) for code, titles in CATEGORY_STORIES.items() if code in services.registry.categories
               for title in titles]
    for position, (code, title) in enumerate(stories):
        clock.set(real_now - timedelta(days=50) + timedelta(days=48 * position / max(len(stories), 1)))
        sweep_due_timers(factory, runtime)
        category = services.registry.category(code)
        base = {"title": title, "summary": f"当事人反映：{title}，请求依法处理。", "channel": "walk_in",
                "people_count": 2 + position % 4, "applicant_name": "王" + "建华秀英志强海燕"[position % 6],
                "applicant_phone": f"1380472{position:04d}", "respondent_name": "赵" + "明丽刚芳"[position % 4]}
        intake_schema = category.bundle.form(category.intake_form).schema
        intake = answers_for(intake_schema, base, clock.now(), title)
        try:
            case = runtime.start_case(session, code, intake, JIUYUAN, admin)
        except FormInvalid:
            continue  # an intake field the demo cannot invent (a court case number pattern …)
        for _ in range(1 + position % 7):
            clock.advance(hours=3)
            task = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready",
                                                           HumanTask.role.in_(sorted(admin.roles)))
                                   .order_by(HumanTask.created_at)).first()
            if task is None:
                break
            schema = runtime.form(session, case, task.form).schema
            try:
                runtime.complete_task(session, task.id, answers_for(schema, task.form_defaults, clock.now(), title),
                                      admin)
            except (FormInvalid, ProcessError):
                session.rollback()
                break
