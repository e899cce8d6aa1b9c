"""研判会 pages (web/analysis_meetings.py): the place's analyst sees the meeting, records a 研判意见 per
case and the minutes once; other jurisdictions get 404, other roles 403."""
from __future__ import annotations

from engine.models import AnalysisMeeting, CaseEvent
from web.extensions import db
from web.services import services


def _meeting(app, case_id: int, place: str = "150207") -> int:
    with app.app_context():
        now = services().clock.now()
        row = AnalysisMeeting(jurisdiction_code=place, level="county", every="week", period_start=now.date(),
                              title="九原区县周研判（2026-03-02 起）", case_ids=[case_id], created_at=now, due_at=now,
                              state="open")
        db.session.add(row)
        db.session.commit()
        return row.id


def test_the_analyst_completes_a_meeting_once(app, login, register, db_read):
    case_id = register(login("clerk"))
    meeting_id = _meeting(app, case_id)
    analyst = login("analyst")
    page = analyst.get("/analysis-meetings").get_data(as_text=True)
    assert "九原区县周研判" in page and "待我研判" in page
    detail = analyst.get(f"/analysis-meetings/{meeting_id}").get_data(as_text=True)
    assert f'name="opinion_{case_id}"' in detail and "楼上漏水纠纷" in detail

    missing = analyst.post(f"/analysis-meetings/{meeting_id}/complete", data={"minutes": "纪要"})
    assert missing.status_code == 422 and "研判意见" in missing.get_data(as_text=True)
    done = analyst.post(f"/analysis-meetings/{meeting_id}/complete",
                        data={f"opinion_{case_id}": "损失不大，村级调处", "minutes": "本周一件"})
    assert done.status_code == 303
    assert db_read(lambda s: s.get(AnalysisMeeting, meeting_id).state) == "completed"
    events = db_read(lambda s: [e.summary for e in s.query(CaseEvent).filter_by(case_id=case_id,
                                                                                 kind="analysis_opinion")])
    assert events == ["九原区县周研判（2026-03-02 起）：损失不大，村级调处"]
    again = analyst.post(f"/analysis-meetings/{meeting_id}/complete",
                         data={f"opinion_{case_id}": "再次", "minutes": "再次"})
    assert again.status_code == 303
    assert db_read(lambda s: s.get(AnalysisMeeting, meeting_id).minutes) == "本周一件"


def test_other_jurisdictions_and_roles_cannot_complete(app, login, register, db_read):
    case_id = register(login("clerk"))
    meeting_id = _meeting(app, case_id)
    other = login("other")  # 昆都仑区, every role
    assert other.get(f"/analysis-meetings/{meeting_id}").status_code == 404
    assert other.post(f"/analysis-meetings/{meeting_id}/complete", data={"minutes": "x"}).status_code == 404
    assert "九原区县周研判" not in other.get("/analysis-meetings").get_data(as_text=True)
    mediator = login("mediator")
    assert mediator.get(f"/analysis-meetings/{meeting_id}").status_code == 200
    assert mediator.post(f"/analysis-meetings/{meeting_id}/complete",
                         data={f"opinion_{case_id}": "x", "minutes": "x"}).status_code == 403
    assert db_read(lambda s: s.get(AnalysisMeeting, meeting_id).state) == "open"
