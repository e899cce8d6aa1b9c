"""Clocks that pause (鉴定, 听证) and stretch (approved extensions)."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest

from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.documents import case_documents
from engine.errors import Forbidden
from engine.forms import FormLibrary
from engine.queries import deadline_state
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.task_clock import ClockError
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario

DIRECTOR = Actor.of("director", frozenset({"director"}), "150207")


@pytest.fixture
def clock_runtime(tmp_path, clock):
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "tests" / "fixtures" / "clock_category", processes)
    shutil.copytree(ROOT / "processes" / "library", processes / "library")
    return CaseRuntime(ProcessRegistry(processes, FormLibrary(ROOT / "forms")), clock)


@pytest.fixture
def case(sessions, clock_runtime, staff, clock):
    return CaseScenario(sessions, clock_runtime, staff, clock, category="pausable")


def due_of(case):
    return case.task("handle").due_at


def timer_dues(case):
    return {t.kind: t.due_at for t in case.timers()}


def test_the_limit_counts_thirty_working_days_across_qingming(case):
    # From Monday 2 March 2026: 3–31 March give 21 working days; 1–3 April three more (24);
    # 4–6 April are the 清明 holiday; 7–10 April four more (28); Monday 13 April is the 29th and
    # Tuesday 14 April the 30th.
    assert due_of(case) == datetime(2026, 4, 14, 23, 59, 59, tzinfo=SHANGHAI)
    assert timer_dues(case)["overdue"] == due_of(case)


def test_a_paused_clock_does_not_run_and_the_deadline_moves_by_the_paused_time(case, sessions, clock_runtime,
                                                                                staff, clock):
    original_due = due_of(case)
    clock.advance(days=3)
    with sessions() as session:
        clock_runtime.pause_clock(session, case.task("handle").id, "鉴定", staff)
    task = case.task("handle")
    assert deadline_state(task, clock.now()) == "暂停"
    assert case.case().is_paused
    assert all(due.year == 9999 for due in timer_dues(case).values())

    clock.set(original_due + timedelta(days=5))  # well past the old limit, still paused
    assert case.sweep().fired == []
    assert not case.case().is_overdue
    assert deadline_state(case.task("handle"), clock.now()) == "暂停"

    with sessions() as session:
        clock_runtime.resume_clock(session, task.id, staff)
    moved = due_of(case)
    # 30 working days were paused (5 Mar … 19 Apr); the exact arithmetic is the next test's.
    assert moved > original_due + timedelta(days=30)
    assert moved.astimezone(SHANGHAI).time().isoformat() == "23:59:59"
    assert timer_dues(case)["overdue"] == moved
    assert timer_dues(case)["warning"] == case.task("handle").warn_at  # shown and fired agree
    assert not case.case().is_paused
    assert [e.kind for e in case.events() if e.kind.startswith("clock_")] == ["clock_paused", "clock_resumed"]

    clock.set(moved - timedelta(minutes=1))
    assert "overdue" not in [f.kind for f in case.sweep().fired]
    clock.set(moved + timedelta(seconds=1))
    assert "overdue" in [f.kind for f in case.sweep().fired]


def test_a_pause_needs_a_reason_the_task_allows(case, sessions, clock_runtime, staff):
    with sessions() as session, pytest.raises(ClockError, match="鉴定、听证"):
        clock_runtime.pause_clock(session, case.task("handle").id, "出差", staff)
    assert case.task("handle").paused_at is None
    assert [e.kind for e in case.events()] == ["case_started", "task_created"]


def test_an_approved_extension_moves_the_deadline_and_its_timers(case, sessions, clock_runtime, staff):
    original_due = due_of(case)
    with sessions() as session:
        request = clock_runtime.request_extension(session, case.task("handle").id, "30 日", "需要补充鉴定材料", staff)
    assert request.state == "pending"
    assert due_of(case) == original_due  # nothing moves before a decision

    with sessions() as session:
        clock_runtime.decide_extension(session, request.id, True, "同意延期", DIRECTOR)
    # 30日 from 14 April 2026 is 14 May 2026, a Thursday and a working day.
    assert due_of(case) == datetime(2026, 5, 14, 23, 59, 59, tzinfo=SHANGHAI)
    assert timer_dues(case)["overdue"] == due_of(case)
    assert timer_dues(case)["warning"] == case.task("handle").warn_at
    approved = case.events("extension_approved")[0]
    assert approved.data["reason"] == "需要补充鉴定材料"
    with sessions() as session:  # the law requires telling the parties why (告知延期理由)
        notices = [d for d in case_documents(session, case.case()) if d.doc_type == "extension_notice"]
    assert len(notices) == 1 and "需要补充鉴定材料" in notices[0].html

    with sessions() as session, pytest.raises(ClockError, match="already been extended"):
        clock_runtime.request_extension(session, case.task("handle").id, "10 日", "再次延期", staff)


def test_extensions_are_bounded_by_the_definition(case, sessions, clock_runtime, staff):
    task_id = case.task("handle").id
    with sessions() as session, pytest.raises(ClockError, match="at most 30 日"):
        clock_runtime.request_extension(session, task_id, "31 日", "理由", staff)
    with sessions() as session, pytest.raises(ClockError, match="at most 30 日"):
        clock_runtime.request_extension(session, task_id, "5 工作日", "理由", staff)
    with sessions() as session, pytest.raises(ClockError, match="reason"):
        clock_runtime.request_extension(session, task_id, "10 日", "  ", staff)


def test_only_a_director_decides_and_a_rejection_changes_no_deadline(case, sessions, clock_runtime, staff):
    original_due = due_of(case)
    mediator = Actor.of("mediator", frozenset({"mediator"}), "150207")
    with sessions() as session:
        request = clock_runtime.request_extension(session, case.task("handle").id, "15 日", "当事人申请", staff)
    with sessions() as session, pytest.raises(Forbidden):
        clock_runtime.decide_extension(session, request.id, True, "", mediator)
    with sessions() as session:
        clock_runtime.decide_extension(session, request.id, False, "理由不充分", DIRECTOR)
    assert due_of(case) == original_due
    assert [e.kind for e in case.events("extension_rejected")] == ["extension_rejected"]


def test_an_extension_approved_during_a_pause_applies_on_resume(case, sessions, clock_runtime, staff, clock):
    with sessions() as session:
        clock_runtime.pause_clock(session, case.task("handle").id, "听证", staff)
        request = clock_runtime.request_extension(session, case.task("handle").id, "10 日", "听证延长", staff)
        clock_runtime.decide_extension(session, request.id, True, "同意", DIRECTOR)
    extended_due = due_of(case)
    clock.advance(days=2)
    with sessions() as session:
        clock_runtime.resume_clock(session, case.task("handle").id, staff)
    assert due_of(case) >= extended_due + timedelta(days=2)
    assert timer_dues(case)["overdue"] == due_of(case)


def test_a_working_day_limit_moves_by_the_working_days_the_pause_took(case, sessions, clock_runtime, staff, clock):
    # Limit: 30 工作日 from Mon 2 Mar 2026 → Tue 14 Apr. Paused Mon 9 Mar for 鉴定, resumed Mon 20 Apr.
    # Working days lost (10 Mar … 20 Apr): 10–13, 16–20, 23–27, 30–31 Mar (16); 1–3 Apr (19);
    # 4–6 Apr 清明; 7–10 (23), 13–17 (28), 20 Apr (29). Twenty-nine working days after 14 Apr:
    # 15–17, 20–24, 27–30 Apr (12); 1–5 May 劳动节; 6–8 May (15), Sat 9 May is a make-up day (16),
    # 11–15 (21), 18–22 (26), 25–27 May (29) → Wed 27 May.
    clock.set(datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI))
    with sessions() as session:
        clock_runtime.pause_clock(session, case.task("handle").id, "鉴定", staff)
    clock.set(datetime(2026, 4, 20, 10, 0, tzinfo=SHANGHAI))
    with sessions() as session:
        clock_runtime.resume_clock(session, case.task("handle").id, staff)
    assert due_of(case) == datetime(2026, 5, 27, 23, 59, 59, tzinfo=SHANGHAI)
    assert timer_dues(case)["overdue"] == due_of(case)
