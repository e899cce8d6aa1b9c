"""督办 from the node-timer list: 九原区's 政法委 manager sees a 邻里 mediation run past its 30 日 and sends
its handler a 工作提示函, then a 督办函 with written instructions — numbered documents of the handling
center, each logged on the case. A clerk may not send one, another county cannot even find the task,
a task already done draws none, and a 督办函 needs its 督办意见."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import jurisdictions
from engine.actors import Actor
from engine.errors import ConflictError, Forbidden, NotFound
from engine.models import Case, CaseDocument, CaseEvent
from engine.supervision_letters import NOTE_LIMIT, LetterError, send_letter
from tests.engine.scenario import CaseScenario

JIUYUAN = "150207"
MANAGER = Actor.of("zfw", {"manager"}, JIUYUAN, "钱政法")
DIRECTOR = Actor.of("director", {"director"}, JIUYUAN, "赵主任")
CLERK = Actor.of("clerk", {"clerk"}, JIUYUAN, "王受理")
OUTSIDER = Actor.of("kdl", {"manager"}, "150203", "昆都仑区政法委")
INSTRUCTIONS = "请于三日内重新组织调处，并书面报告未按期办结的原因。"


@pytest.fixture
def late_mediation(sessions, runtime, staff, clock):
    """A neighbour dispute dispatched on Monday 2 March whose 调处 (30 日, due 1 April) is two days over."""
    with sessions() as session:
        jurisdictions.save(session, JIUYUAN, "九原区", "county", None, "九原区综治中心")
        session.commit()
    case = CaseScenario(sessions, runtime, staff, clock)
    case.do_all("accept", "assess", "dispatch")
    clock.advance(days=32)
    case.sweep()
    return case


def send(sessions, runtime, clock, actor, task_id, kind, note=""):
    with sessions() as session:
        document = send_letter(session, runtime, actor, task_id, kind, note, clock.now())
        session.commit()
        return document.id


def documents_and_events(sessions, case_id):
    with sessions() as session:
        documents = list(session.scalars(select(CaseDocument).where(CaseDocument.case_id == case_id)
                                         .order_by(CaseDocument.id)))
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                              CaseEvent.kind == "supervision_sent")))
        return documents, events


def written(sessions, case_id):
    """What a refused letter must leave as it was: the case's document numbers and 督办 events."""
    documents, events = documents_and_events(sessions, case_id)
    return [d.number for d in documents], [e.id for e in events]


def test_a_work_reminder_names_the_task_its_handler_and_how_far_it_is_past_its_limit(
        sessions, runtime, clock, late_mediation):
    task = late_mediation.task("mediate")
    before, _ = documents_and_events(sessions, late_mediation.case_id)
    document_id = send(sessions, runtime, clock, MANAGER, task.id, "work_reminder")
    documents, events = documents_and_events(sessions, late_mediation.case_id)
    assert len(documents) == len(before) + 1
    reminder = documents[-1]
    # The process sent its own 工作提示函 when the warning timer fired: the manager's is the next number.
    assert [d.number for d in before if d.doc_type == "work_reminder"] == ["150207-2026-提00001"]
    assert (reminder.id, reminder.doc_type, reminder.number) == (document_id, "work_reminder", "150207-2026-提00002")
    assert reminder.element_id == "mediate" and reminder.task_id is None
    assert "“调处”环节办理期限至2026年4月1日 23:59，目前已超期 1 天 9 小时" in reminder.html
    assert "九原区综治中心 · 调解员" in reminder.html and "提示人：钱政法（政法委管理者）" in reminder.html
    assert reminder.data["details"]["state"] == "超期"
    [event] = events
    assert event.actor == "zfw" and event.task_id == task.id and event.element_id == "mediate"
    assert event.summary == "督办：出具工作提示函 150207-2026-提00002（调处，已超期 1 天 9 小时）"
    assert event.data["number"] == reminder.number and event.data["document_id"] == reminder.id


def test_a_supervision_letter_carries_the_instructions_and_a_task_may_draw_several_letters(
        sessions, runtime, clock, late_mediation):
    task = late_mediation.task("mediate")
    before, _ = documents_and_events(sessions, late_mediation.case_id)
    send(sessions, runtime, clock, DIRECTOR, task.id, "work_reminder", "请尽快联系双方当事人")
    clock.advance(days=1)
    send(sessions, runtime, clock, MANAGER, task.id, "supervision_letter", INSTRUCTIONS)
    send(sessions, runtime, clock, MANAGER, task.id, "work_reminder")
    documents, events = documents_and_events(sessions, late_mediation.case_id)
    letters = documents[len(before):]
    assert [(d.doc_type, d.number) for d in letters] == [
        ("work_reminder", "150207-2026-提00002"), ("supervision_letter", "150207-2026-督00001"),
        ("work_reminder", "150207-2026-提00003")]
    reminder, letter, _ = letters
    assert "二、督办意见" in letter.html and INSTRUCTIONS in letter.html
    assert "督办人：钱政法（政法委管理者）" in letter.html and "请立即组织办理" in letter.html
    assert "请尽快联系双方当事人" in reminder.html and "提示人：赵主任（中心主任）" in reminder.html
    assert [e.summary.split("（")[0] for e in events] == [
        "督办：出具工作提示函 150207-2026-提00002", "督办：出具督办函 150207-2026-督00001",
        "督办：出具工作提示函 150207-2026-提00003"]
    assert events[1].data["note"] == INSTRUCTIONS


def test_a_clerk_may_not_send_one_and_another_county_cannot_find_the_task(sessions, runtime, clock, late_mediation):
    task = late_mediation.task("mediate")
    before = written(sessions, late_mediation.case_id)
    with sessions() as session:
        with pytest.raises(Forbidden):
            send_letter(session, runtime, CLERK, task.id, "work_reminder", "", clock.now())
        with pytest.raises(NotFound):
            send_letter(session, runtime, OUTSIDER, task.id, "supervision_letter", INSTRUCTIONS, clock.now())
        with pytest.raises(NotFound):
            send_letter(session, runtime, MANAGER, "no-such-task", "work_reminder", "", clock.now())
    assert written(sessions, late_mediation.case_id) == before


def test_a_task_already_completed_draws_no_letter(sessions, runtime, clock, late_mediation, staff):
    task = late_mediation.task("mediate")
    late_mediation.do("mediate", {"mediation_outcome": "success", "mediation_record": "双方达成一致"})
    before = written(sessions, late_mediation.case_id)
    with sessions() as session:
        with pytest.raises(ConflictError, match="not ready"):
            send_letter(session, runtime, MANAGER, task.id, "work_reminder", "", clock.now())
    assert written(sessions, late_mediation.case_id) == before


def test_a_supervision_letter_needs_its_instructions_within_500_characters(sessions, runtime, clock, late_mediation):
    task = late_mediation.task("mediate")
    before = written(sessions, late_mediation.case_id)
    with sessions() as session:
        with pytest.raises(LetterError, match="督办函须填写督办意见") as missing:
            send_letter(session, runtime, MANAGER, task.id, "supervision_letter", "   ", clock.now())
        with pytest.raises(LetterError, match=f"不能超过 {NOTE_LIMIT} 个字") as too_long:
            send_letter(session, runtime, MANAGER, task.id, "work_reminder", "催" * (NOTE_LIMIT + 1), clock.now())
        with pytest.raises(LetterError, match="文书类型“notice”无效") as unknown:
            send_letter(session, runtime, MANAGER, task.id, "notice", INSTRUCTIONS, clock.now())
    assert (missing.value.field, too_long.value.field, unknown.value.field) == ("note", "note", "kind")
    assert written(sessions, late_mediation.case_id) == before


def test_a_paused_task_is_described_by_what_it_had_left_when_paused(sessions, runtime, clock, staff):
    with sessions() as session:
        jurisdictions.save(session, JIUYUAN, "九原区", "county", None, "九原区综治中心")
        session.commit()
    case = CaseScenario(sessions, runtime, staff, clock, category="damages")  # 调处 may stop for 鉴定
    case.do_all("accept", "assess", "dispatch")
    clock.advance(days=10)
    with sessions() as session:
        runtime.pause_clock(session, case.task("mediate").id, "鉴定", staff)
    clock.advance(days=40)
    send(sessions, runtime, clock, MANAGER, case.task("mediate").id, "work_reminder")
    documents, _ = documents_and_events(sessions, case.case_id)
    assert "目前计时暂停（暂停时剩余 " in documents[-1].html
    assert documents[-1].data["details"]["state"] == "暂停计时"
    with sessions() as session:
        assert session.get(Case, case.case_id).status == "open"
