"""What demo cases say: their stories (intake) and plausible answers to any form, from its JSON Schema.

Each category has a few stories; a case's answers come from the form's schema, with choices steered by
the case's fate (受理 or 不予受理, 调解成功 or 失败, 满意 or 不满意 …) and texts that name the case's own
place and topic. Nothing here touches the database.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

from engine.calendar import SHANGHAI

# category -> stories: title, summary, extra intake fields, answer overrides by field
STORIES: dict[str, list[tuple[str, str, dict[str, Any], dict[str, Any]]]] = {
    "neighbour": [
        ("楼上漏水致楼下天花板受损", "楼上住户卫生间漏水，楼下天花板发霉脱落，双方就维修费用发生争执。", {"amount": 3200}, {}),
        ("宅前通道堆放杂物引发口角", "邻居长期在公共通道堆放杂物，影响通行，多次沟通无果，双方发生口角。", {}, {}),
        ("装修噪音扰民", "邻居装修在午休和夜间施工，噪音严重影响老人休息。", {}, {}),
        ("院墙界址争议", "两户因院墙位置与宅基地界址发生争议，情绪激动，有推搡行为。", {}, {"risk_color": "橙"}),
        ("楼道电动车充电隐患", "邻居在楼道私拉电线为电动车充电，存在火灾隐患，劝阻无效。", {}, {}),
        ("空调外机排水滴落", "楼上空调外机冷凝水滴落至楼下阳台，多次协商未果。", {}, {}),
    ],
    "marriage_family": [
        ("离婚后子女抚养费给付纠纷", "双方离婚后，男方连续八个月未按协议支付子女抚养费。", {"amount": 12000}, {}),
        ("赡养老人费用分担纠纷", "老人育有三子，兄弟三人对赡养费和轮流照料方式意见不一。", {}, {}),
        ("家庭暴力求助", "申请人反映丈夫酒后多次殴打，本人及子女人身安全受到威胁。", {},
         {"domestic_violence": True, "urgent": False, "wants_mediation": False, "risk_color": "红"}),
    ],
    "homestead": [
        ("宅基地界址争议", "两户宅基地相邻，翻建房屋时对界址认定产生分歧。", {}, {"ownership_unclear": False}),
        ("老宅继承分割纠纷", "兄妹三人对父母遗留老宅的使用和分割存在争议。", {}, {}),
        ("翻建房屋遮挡采光纠纷", "邻户翻建二层楼房，遮挡申请人房屋采光。", {}, {}),
    ],
    "contract": [
        ("装修工程款结算纠纷", "业主与装修队就增项费用和工程质量发生争议，尾款未结。", {"amount": 28000, "contract_type": "work"}, {}),
        ("农资买卖合同货款纠纷", "农资店赊销化肥种子，购买方以质量问题为由拒付货款。", {"amount": 16500, "contract_type": "sale"}, {}),
        ("民间借款到期未还", "借款人借款五万元约定一年归还，到期后以经营困难为由拖延。", {"amount": 50000, "contract_type": "loan"}, {}),
    ],
    "business": [
        ("合作养殖分红纠纷", "三户合伙养羊，年底对分红比例和饲料成本分摊存在争议。", {"amount": 46000}, {}),
        ("个体商户摊位转让纠纷", "摊位转让后原经营者又在附近开店，受让方认为违反约定。", {"amount": 20000}, {}),
    ],
    "damages": [
        ("电动车碰撞致人受伤赔偿纠纷", "电动车在小区内与行人相撞，行人骨折住院，双方就赔偿数额争执。",
         {"damage_type": "personal", "claimed_amount": 38000}, {}),
        ("宠物犬咬伤赔偿纠纷", "邻居饲养的犬只未拴绳，咬伤申请人小腿，就疫苗和误工费赔偿未达成一致。",
         {"damage_type": "personal", "claimed_amount": 4600}, {}),
        ("高空坠物砸坏车辆", "楼上阳台花盆坠落砸坏停放车辆，车主要求赔偿维修费。",
         {"damage_type": "property", "claimed_amount": 9800}, {}),
    ],
    "land_forest": [
        ("林地承包边界纠纷", "两户承包林地相邻，对边界走向和树木归属存在争议。", {}, {"land_acquisition_compensation": False}),
        ("土地流转租金纠纷", "合作社流转农户土地，第二年起拖欠流转租金。", {"amount": 36000}, {"land_acquisition_compensation": False}),
        ("草场围栏占地纠纷", "邻户修建草场围栏，占用申请人承包草场约三亩。", {}, {"land_acquisition_compensation": False}),
    ],
    "expropriation": [
        ("征地补偿款分配纠纷", "村民小组对征地补偿款在出嫁女、新生儿之间的分配方案有异议。", {"people_count": 14},
         {"group_dispute": True}),
        ("房屋拆迁安置面积纠纷", "被拆迁户认为安置面积测算漏记了附属房屋。", {}, {"group_dispute": False}),
    ],
    "environment": [
        ("养殖场异味污染纠纷", "村边养殖场粪污处理不当，周边住户长期受异味困扰。", {"people_count": 9}, {"pollution_type": "air"}),
        ("餐馆油烟扰民纠纷", "临街餐馆油烟管道直排居民楼，居民多次投诉。", {}, {"pollution_type": "air"}),
        ("洗车点污水外排纠纷", "路边洗车点污水直排农田沟渠，影响灌溉。", {}, {"pollution_type": "water"}),
    ],
    "labour": [
        ("建筑工地农民工欠薪", "某建筑公司拖欠十二名农民工工资，年关将至，工人情绪激动。",
         {"employer_name": "某建筑劳务有限公司", "workers_count": 12, "wage_amount": 186000, "people_count": 12},
         {"wage_arrears": True, "risk_color": "橙"}),
        ("解除劳动合同经济补偿纠纷", "员工被公司解除劳动合同，双方就经济补偿金数额发生争议。",
         {"employer_name": "某商贸有限公司", "workers_count": 1, "wage_amount": 24000}, {"wage_arrears": False}),
        ("餐饮店拖欠服务员工资", "餐饮店停业，拖欠三名服务员两个月工资。",
         {"employer_name": "某餐饮店", "workers_count": 3, "wage_amount": 15600, "people_count": 3},
         {"wage_arrears": True}),
    ],
    "consumer": [
        ("预付卡健身房闭店退费纠纷", "健身房突然闭店，二十余名会员预付卡余额无法退还。", {"people_count": 23, "amount": 52000}, {}),
        ("网购家电质量退货纠纷", "网购空调安装后不制冷，商家拒绝退货。", {"amount": 3899}, {}),
        ("二手车里程数造假纠纷", "购买二手车后发现实际里程与约定不符，要求退车。", {"amount": 68000}, {}),
    ],
    "medical": [
        ("手术后并发症赔偿纠纷", "患者阑尾切除术后出现感染，家属认为医院存在过错。",
         {"institution_name": "区人民医院", "patient_name": "刘桂兰"}, {}),
        ("诊所输液过敏损害纠纷", "患者在村诊所输液后发生过敏反应，就医疗费用承担发生争议。",
         {"institution_name": "某社区卫生服务站", "patient_name": "张建军"}, {}),
    ],
    "traffic": [
        ("路口两车相撞赔偿纠纷", "两辆小型轿车在路口相撞，一人轻伤，双方对赔偿数额分歧较大。", {}, {"casualty": "injury"}),
        ("电动自行车与行人相撞纠纷", "电动自行车与行人相撞，行人受伤住院。", {}, {"casualty": "injury"}),
        ("货车剐蹭停放车辆纠纷", "货车倒车剐蹭路边停放车辆，就维修费用未达成一致。", {}, {"casualty": "property_only"}),
    ],
    "property_management": [
        ("物业费收缴与服务质量纠纷", "业主以电梯长期故障、保洁不到位为由拒交物业费。",
         {"community_name": "阳光小区", "property_company": "某物业服务有限公司", "people_count": 6}, {}),
        ("小区停车位管理纠纷", "物业将公共区域划为收费车位，部分业主不同意。",
         {"community_name": "幸福家园小区", "property_company": "某物业管理公司", "people_count": 11}, {}),
        ("楼顶漏水维修责任纠纷", "顶层业主房屋漏水，物业与业主委员会对维修资金使用意见不一。",
         {"community_name": "和平小区", "property_company": "某物业服务有限公司"}, {}),
    ],
    "other": [
        ("村集体经济收益分配意见", "部分村民对村集体经济收益分配方案有意见，要求公开账目。", {"people_count": 8},
         {"joint_meeting": True}),
        ("广场舞噪音与居民纠纷", "广场舞音响音量过大，附近居民多次劝说无果。", {}, {}),
    ],
    "petition": [
        ("反映征地补偿未落实信访件", "信访人反映其承包地被征收后补偿款至今未发放到位。", {"amount": 82000},
         {"department": "县（区）自然资源局"}),
        ("反映小区违建未处理信访件", "信访人反映小区一楼住户私搭乱建，多次反映未处理。", {},
         {"department": "县（区）住房和城乡建设局"}),
        ("反映拖欠工程款信访件", "信访人反映某建筑公司拖欠其工程款，多次协商未果。", {"amount": 56000},
         {"department": "县（区）人社局劳动保障监察大队"}),
    ],
    "court_referral": [
        ("民间借贷纠纷诉前委派调解", "人民法院立案前委派调解的民间借贷纠纷，借款本金三万元。", {"amount": 30000}, {}),
        ("买卖合同纠纷诉前委派调解", "人民法院立案前委派调解的建材买卖合同纠纷。", {"amount": 74000}, {}),
    ],
}

# Where a category's cases are registered: county windows, township centers, village stations.
REGISTRATION_LEVELS = {
    "medical": ("county",), "traffic": ("county",), "court_referral": ("county",), "petition": ("county",),
    "consumer": ("county", "township"), "labour": ("county", "township"), "expropriation": ("county", "township"),
    "contract": ("county", "township"), "business": ("county", "township"),
}
DEFAULT_LEVELS = ("county", "township", "village")
CHANNELS = {"county": ("walk_in", "walk_in", "hotline_12345", "police_110", "online", "lower_level", "department"),
            "township": ("walk_in", "walk_in", "hotline_12345", "grid", "police_110"),
            "village": ("walk_in", "grid", "grid")}
CATEGORY_CHANNELS = {"court_referral": "court", "petition": "petition"}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "桂兰", "建华", "志强", "海燕", "玉梅", "国庆", "建军", "文斌", "春花", "福生", "二虎", "金山")

# Choices that move a case forward, in order; the fate may put others first.
PREFERRED = ("success", "satisfied", "confirmed", "continue", "accept", "agree", "performed", "paid", "mediated",
             "supported", "upheld", "mediation", "transfer", "ordinary", "village", "phone", "litigation")
TRUE_FIELDS = ("accepted", "agrees", "treatment_ended", "disability_rated", "loss_assessed", "harm_known",
               "wants_mediation", "parties_consent", "applied", "filed", "performed", "inspection_accepted",
               "arbitration_accepted", "protection_order_filed", "joint_application", "hearing_held")

# Texts by field name; {topic} and the place facts are filled in.
TEXTS = {
    "assessment": "{topic}：事实基本清楚，双方均有调解意愿，风险总体可控，建议由{handler}调处。",
    "mediation_record": "组织双方到{center}调解室面对面协商，释法明理，就{topic}逐项沟通。",
    "agreement_terms": "一、责任方于十五日内一次性支付相关费用；二、双方今后互谅互让，不再就此事发生争执。",
    "reject_reason": "经审查不属于本中心受理范围，已告知当事人向有关部门反映。",
    "termination_reason": "一方当事人明确表示不再接受调解。",
    "dispatch_note": "按研判意见分流，请按时限办理并反馈。",
    "notice_note": "已电话告知双方当事人处理结果及法律途径。",
    "follow_up_note": "回访当事人，了解协议履行情况。",
    "archive_note": "材料齐全，一案一卷，归档。",
    "supervision_note": "已电话督促承办人加快办理，三日内反馈进展。",
    "supervision_instructions": "请承办人三日内重新回访核实履行情况，形成书面反馈。",
    "leader_instruction": "高度重视，请相关部门密切配合、限期化解，防止矛盾激化。",
    "escalation_instructions": "提级督办，请承办单位主要负责人包案，十日内报送办理结果。",
    "handling_procedure": "本单位调查核实后于六十日内出具处理意见。",
    "handling_record": "已约谈相关单位和当事人，调查核实并提出处理意见。",
    "reply_opinion": "经调查核实，依法提出处理意见，已书面答复信访人。",
    "review_opinion": "经复查，原处理意见认定事实清楚，予以维持。",
    "recheck_opinion": "经复核，维持复查意见。",
    "opinion": "同意由牵头部门负责调处，本部门派员参与并提供政策依据。",
    "binding_opinion": "联席会议议定：由牵头部门负责调处，相关部门按职责配合，十日内反馈。",
    "report_content": "{topic}，患方情绪较大，已按规定报告。",
    "guidance_note": "已告知当事人相关法律途径和申请时限。",
    "inspection_note": "已责令用人单位限期支付所欠工资。",
    "award_note": "经仲裁庭主持，双方达成调解。",
    "harm_note": "治疗已终结，伤残评定和损失核定均已完成。",
    "report_note": "调解成功，已反馈法院并申请司法确认。",
    "return_note": "调解不成，退回法院依法审理。",
    "channel_note": "属民事纠纷，可依法向人民法院起诉。",
    "request_note": "当事人未提出申请。",
    "objection_reason": "不属于本单位职责范围。",
    "contested_act": "征收补偿决定",
    "referral_note": "已引导当事人依法申请确权。",
    "protection_note": "已协助当事人向人民法院申请人身安全保护令。",
    "review_organ": "{county}人民政府",
    "court_of_jurisdiction": "{county}人民法院",
    "court": "{county}人民法院",
    "protection_court": "{county}人民法院",
    "petition_office": "{county}信访局",
    "arbitration_commission": "{county}劳动人事争议仲裁委员会",
    "arbitration_committee": "{county}农村土地承包仲裁委员会",
    "referral_authority": "{county}自然资源局",
    "report_department": "{county}卫生健康委员会",
    "mediation_place": "{center}调解室",
    "mediator_name": "{county}人民调解员",
    "inspection_accept_note": "符合立案条件，予以立案。",
    "arbitration_accept_note": "符合受理条件，予以受理。",
}
OUTCOME_TEXTS = {
    ("mediation_record", "success"): "经{center}组织调解，释法明理，双方就{topic}达成一致意见。",
    ("mediation_record", "failure"): "经两轮调解，双方分歧较大，未能达成一致。",
    ("mediation_record", "ended"): "调解期满双方仍未达成一致，终止调解。",
    ("mediation_record", "escalate"): "案情复杂，涉及多个部门，建议提级调处。",
    ("follow_up_note", "satisfied"): "当事人对处理结果表示满意，协议已履行。",
    ("follow_up_note", "basically_satisfied"): "当事人对处理结果基本满意，部分款项正在履行。",
    ("follow_up_note", "dissatisfied"): "当事人反映对方未按约定履行，表示不满意。",
}
# Departments a 联席会议 convenes (spelled as they are stationed at every county center).
MEETING_DEPARTMENTS = ["县（区）司法局", "县（区）公安局", "县（区）住房和城乡建设局"]


@dataclass
class Facts:
    """What answers of one case may mention, and how its choices lean."""

    topic: str
    county: str
    center: str
    rng: random.Random
    prefer: dict[str, Sequence[Any]] = field(default_factory=dict)  # field -> values tried first
    fixed: dict[str, Any] = field(default_factory=dict)  # field -> value (the story's own answers)
    amount: float | None = None  # what the dispute is about, in 元; agreements settle part of it

    def text(self, name: str, title: str, outcome: Any = None) -> str:
        template = OUTCOME_TEXTS.get((name, outcome)) or TEXTS.get(name) or f"{title}：{{topic}}，已按规定办理。"
        handler = "村（社区）" if self.rng.random() < 0.4 else "乡镇（街道）"
        return template.format(topic=self.topic, county=self.county, center=self.center, handler=handler)


def intake_for(category: str, story: tuple, schema: dict[str, Any], place_name: str, county_code: str,
               county_name: str, channel: str, now: datetime, rng: random.Random) -> dict[str, Any]:
    """The registration data of a demo case, limited to the fields its intake form has."""
    title, summary, extra, _answers = story
    applicant = rng.choice(SURNAMES) + rng.choice(GIVEN)
    local = now.astimezone(SHANGHAI)
    data = {
        "title": title, "summary": summary, "channel": channel, "people_count": 2 + rng.randrange(3),
        "occurred_on": (local - timedelta(days=rng.randrange(1, 20))).date().isoformat(),
        "address": place_name + rng.choice(("一组", "二组", "三号楼", "五号楼二单元", "东街", "南巷")),
        "applicant_name": applicant, "applicant_phone": _phone(rng),
        "applicant_id_number": _id_number(county_code, rng),
        "respondent_name": rng.choice(SURNAMES) + rng.choice(GIVEN), "respondent_phone": _phone(rng),
    }
    if category == "court_referral":
        court_code = {"15": "蒙", "62": "甘"}.get(county_code[:2], "")
        data["court_name"] = f"{county_name}人民法院"
        data["court_case_number"] = f"（{local.year}）{court_code}{county_code[2:6]}民诉前调{rng.randrange(100, 999)}号"
    if category == "petition":
        data["petition_number"] = f"XF{county_code}-{local.year}-{rng.randrange(1, 99999):05d}"
    data.update(extra)
    properties = schema.get("properties", {})
    return {key: value for key, value in data.items() if key in properties}


def answers_for(schema: dict[str, Any], defaults: dict[str, Any], now: datetime, facts: Facts | str,
                form_name: str = "") -> dict[str, Any]:
    """A valid answer to every required field, keeping what the task already carries (routing proposals).

    `facts` may be a plain topic string for callers that only need something valid.
    """
    if isinstance(facts, str):
        facts = Facts(facts, "", "", random.Random(0))
    properties = schema.get("properties", {})
    answer = {key: value for key, value in defaults.items() if key in properties and _fits(value, properties[key])}
    for name, value in facts.fixed.items():
        if name in properties and not (name == "department" and "handling_level" in properties):
            answer[name] = value
    for name, value in _form_specific(form_name, facts).items():
        if name in properties:
            answer[name] = value
    outcome = next((answer.get(k) for k in ("mediation_outcome", "satisfaction") if k in answer), None)
    for name in schema.get("required", []):
        if name in answer or name not in properties:
            continue
        value = _value_for(name, properties[name], now, facts)
        if value is not None:
            answer[name] = value
        if name in ("mediation_outcome", "satisfaction"):
            outcome = value
    for name in ("mediation_record", "follow_up_note"):
        if name in properties and name not in answer:
            answer[name] = facts.text(name, properties[name].get("title", name), outcome)
    # Optional fields a diligent clerk fills in: what an agreement is worth and by when it is kept.
    if facts.amount and "agreement_amount" in properties and "agreement_amount" not in answer:
        answer["agreement_amount"] = round(facts.amount * facts.rng.uniform(0.4, 0.9), -1)
    if "performance_deadline" in properties and "performance_deadline" not in answer:
        answer["performance_deadline"] = (now.astimezone(SHANGHAI).date() + timedelta(days=15)).isoformat()
    if "dispatch_note" in properties and "dispatch_note" not in answer:
        answer["dispatch_note"] = facts.text("dispatch_note", "")
    return answer


def _fits(value: Any, spec: dict[str, Any]) -> bool:
    """A value the task carries over (a routing proposal, an earlier round's answer) the form accepts."""
    if value is None:
        return False
    options = [option.get("const") for option in spec.get("oneOf", []) if "const" in option] + spec.get("enum", [])
    if options and value not in options:
        return False
    return not (isinstance(value, str) and len(value) < spec.get("minLength", 0))


def _form_specific(form_name: str, facts: Facts) -> dict[str, Any]:
    """Answers a schema alone cannot suggest: who a 联席会议 convenes, whom a petition goes to."""
    if form_name == "other_assess" and facts.fixed.get("joint_meeting"):
        return {"joint_meeting": True, "meeting_departments": list(MEETING_DEPARTMENTS),
                "meeting_departments_text": "、".join(MEETING_DEPARTMENTS)}
    if form_name in ("expropriation_assess", "environment_assess") and facts.rng.random() < 0.5:
        return {"involved_departments": "县（区）自然资源局、县（区）住房和城乡建设局"}
    if form_name == "joint_meeting_decision":
        return {"lead_department": MEETING_DEPARTMENTS[0]}
    if form_name == "court_referral_dispatch":
        return {"department": "县（区）人民调解委员会"}
    return {}


def _value_for(name: str, spec: dict[str, Any], now: datetime, facts: Facts):
    options = [option.get("const") for option in spec.get("oneOf", []) if "const" in option]
    options += spec.get("enum", [])
    if options:
        for preferred in (*facts.prefer.get(name, ()), *PREFERRED):
            if preferred in options:
                return preferred
        return options[0]
    kind = spec.get("type")
    if kind == "boolean":
        preferred = facts.prefer.get(name)
        return bool(preferred[0]) if preferred else name in TRUE_FIELDS
    if kind in ("integer", "number"):
        return max(spec.get("minimum", 1), 1)
    if kind == "array":
        return []
    if kind == "string":
        local = now.astimezone(SHANGHAI).date()
        if spec.get("format") == "date":
            ahead = 3 if name in ("mediation_date", "performance_deadline") else 0
            return (local + timedelta(days=ahead)).isoformat()
        if "pattern" in spec:
            return None  # an identifier we cannot invent sensibly; left for a person
        text = facts.text(name, spec.get("title", name))
        return text[: spec.get("maxLength", len(text))]
    return None


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10)}{rng.randrange(10 ** 8):08d}"


def _id_number(region: str, rng: random.Random) -> str:
    """A well-formed 18-digit 居民身份证号码 (with its check digit) for an invented person."""
    body = f"{region[:6]}{rng.randrange(1950, 2004)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}" \
           f"{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check
