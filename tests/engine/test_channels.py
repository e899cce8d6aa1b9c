"""Intake channels through the engine: tokens, idempotent submissions, results queued for the channel,
and the source's own deadline."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import channels, jurisdictions
from engine.actors import Actor
from engine.errors import Forbidden, FormInvalid
from engine.models import Case, ChannelNotification, ChannelSubmission, ChannelToken, HumanTask
from engine.timers import sweep_due_timers
from tests.engine.scenario import CaseScenario, mediate

COUNTY, OTHER_COUNTY = "150207", "150203"
STAFF = Actor.of("staff", {"clerk", "analyst", "mediator", "director", "manager"}, COUNTY, "九原区综治中心")
SUBMISSION = {
    "reference": "GD-2026-0001",
    "category": "neighbour",
    "jurisdiction": COUNTY,
    "title": "楼上漏水",
    "facts": "12345 工单：楼上卫生间漏水，楼下天花板受损。",
    "applicant": {"name": "刘桂兰", "phone": "13800138000"},
    "respondent": {"name": "陈建国"},
}


@pytest.fixture
def hotline(sessions, clock):
    """A 12345 channel with a token for 九原区 (and one for 昆都仑区); returns (principal, plaintext)."""
    with sessions() as session:
        jurisdictions.save(session, COUNTY, "九原区", "county", None, "九原区综治中心")
        jurisdictions.save(session, OTHER_COUNTY, "昆都仑区", "county", None, "昆都仑区综治中心")
        channel = channels.create_channel(session, "hotline-12345", "12345 政务服务便民热线", "hotline_12345",
                                          "admin", clock.now())
        _token, plain = channels.issue_token(session, channel, COUNTY, "admin", clock.now())
        session.commit()
    return plain


def principal(sessions, clock, plain):
    session = sessions()
    found = channels.authenticate(session, plain, clock.now())
    assert found is not None
    return session, found


def submit(sessions, runtime, clock, plain, **changes):
    session, who = principal(sessions, clock, plain)
    with session:
        submitted = channels.submit(session, runtime, who, {**SUBMISSION, **changes})
        return submitted.case.id, submitted.created


def count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_submission_becomes_a_case_carrying_the_channel_and_its_reference(sessions, runtime, clock, hotline):
    case_id, created = submit(sessions, runtime, clock, hotline)
    assert created
    with sessions() as session:
        case = session.get(Case, case_id)
        assert case.source_reference == "GD-2026-0001"
        assert case.intake["channel"] == "hotline_12345"
        assert case.intake["summary"].startswith("12345 工单")
        assert case.created_by == "channel:hotline-12345"
        assert case.handling_jurisdiction_code == COUNTY
        assert [t.element_id for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case_id))] == ["accept"]


def test_the_token_is_stored_only_as_a_hash_and_a_revoked_token_is_refused(sessions, clock, hotline):
    with sessions() as session:
        token = session.scalar(select(ChannelToken))
        assert hotline not in (token.token_hash, token.prefix) and token.token_hash == channels.hash_token(hotline)
        channels.revoke_token(session, token.id, "admin", clock.now())
        session.commit()
        assert channels.authenticate(session, hotline, clock.now()) is None
        assert channels.authenticate(session, "fq_guess", clock.now()) is None


def test_re_sending_a_reference_returns_the_same_case(sessions, runtime, clock, hotline):
    first, _ = submit(sessions, runtime, clock, hotline)
    again, created = submit(sessions, runtime, clock, hotline)
    assert (again, created) == (first, False)
    assert count(sessions, Case) == 1 and count(sessions, ChannelSubmission) == 1


def test_a_reference_re_used_with_other_content_is_refused_and_the_first_case_stands(sessions, runtime, clock, hotline):
    first, _ = submit(sessions, runtime, clock, hotline)
    with pytest.raises(channels.ReferenceReused) as refused:
        submit(sessions, runtime, clock, hotline, title="另一件事")
    assert refused.value.case.id == first
    assert count(sessions, Case) == 1


def test_a_channel_cannot_create_cases_outside_its_tokens_jurisdiction(sessions, runtime, clock, hotline):
    with pytest.raises(Forbidden):
        submit(sessions, runtime, clock, hotline, jurisdiction=OTHER_COUNTY)
    assert count(sessions, Case) == 0 and count(sessions, ChannelSubmission) == 0


def test_invalid_fields_are_reported_by_the_submissions_own_paths_and_nothing_is_stored(sessions, runtime, clock,
                                                                                         hotline):
    with pytest.raises(FormInvalid) as invalid:
        submit(sessions, runtime, clock, hotline, applicant={"name": "刘桂兰", "phone": "12345"},
               extra={"unknown_field": "x"})
    fields = {error.field for error in invalid.value.errors}
    assert fields == {"applicant.phone", "extra.unknown_field"}
    assert count(sessions, Case) == 0 and count(sessions, ChannelSubmission) == 0


def test_a_submission_without_category_is_left_to_assessment(sessions, runtime, clock, hotline):
    case_id, _ = submit(sessions, runtime, clock, hotline, category=None)
    with sessions() as session:
        assert session.get(Case, case_id).category_code == channels.UNCLASSIFIED_CATEGORY


def test_the_channel_reads_only_what_it_sent_in_its_jurisdiction(sessions, runtime, clock, hotline):
    submit(sessions, runtime, clock, hotline)
    session, who = principal(sessions, clock, hotline)
    with session:
        assert channels.channel_case(session, who, "GD-2026-0001").source_reference == "GD-2026-0001"
        channel = channels.create_channel(session, "police-110", "110", "police_110", "admin", clock.now())
        _token, other_plain = channels.issue_token(session, channel, COUNTY, "admin", clock.now())
        session.commit()
    session, police = principal(sessions, clock, other_plain)
    with session, pytest.raises(channels.NotFound):
        channels.channel_case(session, police, "GD-2026-0001")


def _results(sessions, case_id) -> list[tuple[int, str]]:
    with sessions() as session:
        return [(n.sequence, n.result) for n in session.scalars(
            select(ChannelNotification).where(ChannelNotification.case_id == case_id)
            .order_by(ChannelNotification.sequence))]


def test_the_channel_hears_accepted_dispatched_and_concluded_in_order(sessions, runtime, clock, hotline):
    case_id, _ = submit(sessions, runtime, clock, hotline)
    scenario = CaseScenario.of(sessions, runtime, STAFF, clock, case_id)
    assert _results(sessions, case_id) == []
    scenario.do("accept")
    assert _results(sessions, case_id) == [(1, "accepted")]
    scenario.do_all("assess", "dispatch")
    assert _results(sessions, case_id) == [(1, "accepted"), (2, "dispatched")]
    scenario.do_all(("mediate", mediate("success")), "agreement", "notify_result", "follow_up", "archive")
    assert _results(sessions, case_id) == [(1, "accepted"), (2, "dispatched"), (3, "concluded")]
    with sessions() as session:
        last = session.scalar(select(ChannelNotification).where(ChannelNotification.sequence == 3))
        assert last.state == "pending" and last.payload["progress"]["stage"] == "concluded"
        assert last.payload["reference"] == "GD-2026-0001"


def test_a_returned_case_is_reported_once_as_returned(sessions, runtime, clock, hotline):
    case_id, _ = submit(sessions, runtime, clock, hotline)
    CaseScenario.of(sessions, runtime, STAFF, clock, case_id).do("accept", {"accepted": False,
                                                                            "reject_reason": "不属于受理范围"})
    assert _results(sessions, case_id) == [(1, "returned")]
    with sessions() as session:
        payload = session.scalar(select(ChannelNotification)).payload
        assert payload["progress"]["result_text"] == "不予受理：不属于受理范围"


def test_a_window_case_queues_nothing(sessions, runtime, clock, hotline):
    scenario = CaseScenario(sessions, runtime, STAFF, clock)
    scenario.do("accept")
    assert count(sessions, ChannelNotification) == 0


def test_an_earlier_source_deadline_caps_the_task_and_warns_then_flags_overdue(sessions, runtime, clock, hotline):
    deadline = clock.now() + timedelta(hours=10)
    case_id, _ = submit(sessions, runtime, clock, hotline, source_deadline=deadline.isoformat())
    scenario = CaseScenario.of(sessions, runtime, STAFF, clock, case_id)
    assert scenario.task("accept").due_at == deadline
    clock.advance(timedelta(hours=8, minutes=1))  # 80 % of the ten hours
    result = sweep_due_timers(sessions, runtime)
    assert result.source_deadlines == [case_id]
    assert scenario.task("accept").warned_at is not None and not scenario.case().is_overdue
    assert [e.kind for e in scenario.events("source_warning")] == ["source_warning"]
    clock.advance(timedelta(hours=2))
    assert sweep_due_timers(sessions, runtime).source_deadlines == [case_id]
    assert scenario.case().is_overdue and scenario.task("accept").overdue_at is not None
    assert sweep_due_timers(sessions, runtime).source_deadlines == []  # once each
    scenario.do("accept")
    assert scenario.task("assess").overdue_at is not None  # the tasks after it inherit the state
    assert scenario.case().is_overdue


def test_a_later_source_deadline_leaves_our_limits(sessions, runtime, clock, hotline):
    case_id, _ = submit(sessions, runtime, clock, hotline, source_deadline=(clock.now() + timedelta(days=60)).isoformat())
    scenario = CaseScenario.of(sessions, runtime, STAFF, clock, case_id)
    assert scenario.task("accept").due_at < clock.now() + timedelta(days=10)


@pytest.mark.postgres
def test_concurrent_re_sends_on_postgresql_create_one_case(sessions, runtime, clock, hotline, db_engine):
    if db_engine.dialect.name != "postgresql":
        pytest.skip("concurrency of first sends is asserted on PostgreSQL, where writers really run in parallel")
    start, answers, errors = threading.Barrier(4), [], []

    def send():
        try:
            start.wait()
            answers.append(submit(sessions, runtime, clock, hotline))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len({case_id for case_id, _ in answers}) == 1
    assert sorted(created for _, created in answers) == [False, False, False, True]
    assert count(sessions, Case) == 1
