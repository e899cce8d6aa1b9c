"""固阳县 (150222): 一类一流程一办理, the “四个一” and 一案一码一卷.

A property dispute registered at the window and a traffic dispute sent by the 110 channel land at the
county 综治中心's own industry bodies (物业纠纷人民调解委员会, 道路交通事故纠纷人民调解委员会: the
variant's routing and [department_map], processes/variants/150222/). Both are registered the same way
and numbered in one series (一站式受理), keep one ledger of events (一本账), are dispatched at the one
center window (一窗口分流) and are answered with one 结果告知单 — the channel's case also through its
own channel (一口径反馈). The finished case's dossier holds its documents, timeline and photo.
"""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from engine import channels, jurisdictions
from engine.actors import Actor
from engine.attachments import AttachmentStore
from engine.dossier import build_dossier
from engine.models import Case, ChannelNotification, Department
from engine.people import save_department
from tests.engine.scenario import INTAKE, CaseScenario, mediate

GUYANG, JINSHAN, HONGNIJING = "150222", "150222100", "150222100001"
STAFF = Actor.of("guyang.staff", {"clerk", "analyst", "mediator", "director"}, GUYANG, "固阳县综治中心全员")
PROPERTY_BODY = "固阳县物业纠纷人民调解委员会"
TRAFFIC_BODY = "固阳县道路交通事故纠纷人民调解委员会"

PROPERTY_INTAKE = {**INTAKE, "title": "小区电梯停运业主拒交物业费", "summary": "电梯停运半年，业主拒交物业费，物业公司催缴。",
                   "community_name": "金山家园", "property_company": "固阳某物业服务有限公司"}
PROPERTY_ANSWERS = {
    "assess": {"risk_color": "黄", "complexity": "ordinary", "assessment": "物业服务与欠费争议"},
    "agreement": {"agreement_terms": "物业公司一个月内修复电梯，业主补交物业费", "agreement_amount": 3600},
}
TRAFFIC_SUBMISSION = {
    "reference": "110-2026-0302-017", "category": "traffic", "jurisdiction": GUYANG,
    "title": "两车剐蹭致一人轻伤", "facts": "110 非警务警情：两车剐蹭，一方轻伤，双方就赔偿协商不成。",
    "applicant": {"name": "赵刚", "phone": "13904720031"}, "respondent": {"name": "孙磊"},
}
TRAFFIC_ANSWERS = {
    "accept": {"accepted": True, "joint_application": True, "determination_received_on": "2026-02-27"},
    "assess": {"risk_color": "黄", "casualty": "injury", "assessment": "一般人身损害赔偿"},
    "harm_determination": {"treatment_ended": True, "disability_rated": True, "loss_assessed": True,
                           "harm_note": "已出院，未构成伤残"},
    "mediation_notice": {"mediation_date": "2026-03-09", "mediation_place": "县综治中心调解室", "notice_method": "phone"},
    "agreement": {"agreement_terms": "孙磊赔偿医疗费、误工费共计八千元", "agreement_amount": 8000,
                  "performance_deadline": "2026-04-01"},
}


@pytest.fixture
def guyang(sessions):
    """固阳县 with a township and a village, and the county center's industry bodies (as the demo stations them)."""
    with sessions() as session:
        jurisdictions.save(session, GUYANG, "固阳县", "county", None, "固阳县综治中心")
        session.flush()
        jurisdictions.save(session, JINSHAN, "金山镇", "township", GUYANG, "金山镇综治中心")
        session.flush()
        jurisdictions.save(session, HONGNIJING, "红泥井村", "village", JINSHAN, "红泥井村综治站")
        bodies = {name: save_department(session, GUYANG, code, name, "on_call")
                  for code, name in (("gy_property", PROPERTY_BODY), ("gy_traffic", TRAFFIC_BODY))}
        save_department(session, JINSHAN, "people_mediation", "乡镇人民调解委员会", "resident")
        session.commit()
        return {name: row.id for name, row in bodies.items()}


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 12), (90, 90, 200)).save(out, "PNG")
    return out.getvalue()


def dispatched_to(scenario) -> tuple[str, str]:
    proposal = scenario.dispatch_as_routed()
    return proposal["handling_level"], proposal["department"]


def test_each_category_lands_at_its_industry_body_with_four_ones_and_a_dossier(sessions, runtime, clock, guyang,
                                                                               tmp_path):
    # 一站式受理: the window registers the property dispute …
    property_case = CaseScenario(sessions, runtime, STAFF, clock, category="property_management",
                                 intake=PROPERTY_INTAKE, jurisdiction=GUYANG, answers=PROPERTY_ANSWERS)
    # … and the 110 channel sends the traffic dispute through the same registration.
    with sessions() as session:
        channel = channels.create_channel(session, "police-110", "固阳县公安局110指挥中心", "police_110", "admin",
                                          clock.now(), callback_url="https://110.example.cn/results")
        _token, plain = channels.issue_token(session, channel, GUYANG, "admin", clock.now())
        session.commit()
    with sessions() as session:
        principal = channels.authenticate(session, plain, clock.now())
        traffic_id = channels.submit(session, runtime, principal, TRAFFIC_SUBMISSION).case.id
    traffic_case = CaseScenario.of(sessions, runtime, STAFF, clock, traffic_id, answers=TRAFFIC_ANSWERS)
    codes = [property_case.case().code, traffic_case.case().code]
    assert codes == ["150222-2026-000001", "150222-2026-000002"]  # 一案一码, one series for every way in
    assert property_case.ready() == traffic_case.ready() == ["accept"]

    # 一窗口分流: the county center's 分流转办 sends each category to its own body (一类一流程一办理).
    property_case.do_all("accept", "assess")
    assert dispatched_to(property_case) == ("county", PROPERTY_BODY)
    traffic_case.do_all("accept", "assess")
    assert dispatched_to(traffic_case) == ("county", TRAFFIC_BODY)
    for scenario, body in ((property_case, PROPERTY_BODY), (traffic_case, TRAFFIC_BODY)):
        case = scenario.case()
        assert (case.handling_jurisdiction_code, case.department, case.department_id) == (GUYANG, body, guyang[body])
    # Without the variant the same yellow dispute would go to a 街道 committee 固阳县 does not have.
    assert "街道物业纠纷人民调解委员会" not in json.dumps(property_case.case().data, ensure_ascii=False)

    with sessions() as session:  # a photo of the stopped lift, taken during mediation
        store = AttachmentStore(tmp_path / "files")
        store.add(session, session.get(Case, property_case.case_id), "电梯停运.png", photo(), "guyang.staff",
                  clock.now())
        session.commit()
    property_case.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    traffic_case.do_all("harm_determination", "mediation_notice")
    clock.set(traffic_case.timers()[0].due_at + timedelta(minutes=1))  # the parties' 3日 notice has run
    traffic_case.sweep()
    traffic_case.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")

    # 一口径反馈: one 结果告知单 each; the channel's case is also answered through its own channel.
    for scenario in (property_case, traffic_case):
        assert scenario.case().status == "concluded"
        assert scenario.doc_types().count("result_notice") == 1
    with sessions() as session:
        results = session.scalars(select(ChannelNotification.result).where(ChannelNotification.case_id == traffic_id)
                                  .order_by(ChannelNotification.sequence)).all()
        assert results == ["accepted", "dispatched", "concluded"]
        assert session.scalar(select(Department.name).where(Department.id == guyang[TRAFFIC_BODY])) == TRAFFIC_BODY

    # 一本账 + 一案一码一卷: the finished case's dossier holds its ledger, documents and photo.
    with sessions() as session:
        dossier = build_dossier(session, session.get(Case, property_case.case_id), store, clock.now(),
                                category_name="物业纠纷")
    archive = zipfile.ZipFile(io.BytesIO(dossier.data))
    names = archive.namelist()
    assert dossier.filename == "卷宗_150222-2026-000001.zip"
    assert "附件/01_电梯停运.png" in names
    assert [n for n in names if n.startswith("文书/")] == [f"文书/{d.number}_{d.title}.html"
                                                          for d in property_case.documents()]
    timeline = archive.read("办理记录.html").decode("utf-8")
    assert timeline.count("<tr>") - 1 == len(property_case.events())
    assert PROPERTY_BODY in archive.read("卷宗目录.html").decode("utf-8")
