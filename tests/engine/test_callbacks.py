"""A channel hears its cases' results: signed callbacks, retried with backoff until acknowledged, per
case in order. The 12345 hotline sends neighbour disputes to 九原区; its receiver is a fake that answers
from a script and records what it was sent. Time moves on a fake clock, never by sleeping."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine import channels
from engine.callbacks import (
    IDEMPOTENCY_HEADER, NOTIFICATION_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, backoff, deliver_due, retry_now,
    urllib_transport, verify_signature,
)
from engine.models import Channel, ChannelNotification, HumanTask
from tests.engine import org
from tests.engine.scenario import ANSWERS

CALLBACK_URL = "https://hotline.example.cn/fengqiao/callback"


@dataclass
class Sent:
    url: str
    body: bytes
    headers: dict

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """The channel's endpoint: each request gets the next scripted answer (a status or an exception to
    raise; 200 once the script runs out), or what `answer(sent)` returns."""

    def __init__(self, *script, answer=None):
        self.script, self.answer, self.sent = list(script), answer, []
        self._lock = threading.Lock()

    def __call__(self, url, body, headers, timeout):
        sent = Sent(url, body, dict(headers))
        with self._lock:
            self.sent.append(sent)
            reply = self.script.pop(0) if self.script else (self.answer(sent) if self.answer else 200)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def sequences(self, case_code: str) -> list[int]:
        return [s.json["sequence"] for s in self.sent if s.json["case_code"] == case_code]


class Hotline:
    """The 12345 channel of 九原区: sends cases in through engine.channels and has tasks done on them."""

    def __init__(self, sessions, runtime, callback_url: str | None = CALLBACK_URL):
        self.sessions, self.runtime = sessions, runtime
        now = runtime.clock.now()
        with sessions() as session:
            channel = channels.create_channel(session, "hotline-12345", "12345热线", "hotline_12345", "admin", now,
                                              callback_url)
            _, self.token = channels.issue_token(session, channel, org.COUNTY, "admin", now)
            session.commit()
            self.channel_id, self.secret = channel.id, channel.callback_secret

    def send_case(self, reference: str) -> int:
        with self.sessions() as session:
            principal = channels.authenticate(session, self.token, self.runtime.clock.now())
            return channels.submit(session, self.runtime, principal, {
                "reference": reference, "jurisdiction": org.COUNTY, "category": "neighbour",
                "title": "楼上漏水", "facts": "楼上卫生间漏水，楼下天花板受损。",
                "applicant": {"name": "刘桂兰", "phone": "13800138000"}}).case.id

    def do(self, case_id: int, *element_ids: str) -> None:
        for element_id in element_ids:
            with self.sessions() as session:
                task = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "ready",
                                                               HumanTask.element_id == element_id)).one()
                self.runtime.complete_task(session, task.id, ANSWERS[element_id], org.COUNTY_STAFF)

    def notifications(self, case_id: int | None = None) -> list[ChannelNotification]:
        with self.sessions() as session:
            query = select(ChannelNotification).order_by(ChannelNotification.case_id, ChannelNotification.sequence)
            if case_id is not None:
                query = query.where(ChannelNotification.case_id == case_id)
            return list(session.scalars(query))

    def set_callback(self, url: str | None) -> None:
        with self.sessions() as session:
            channels.set_callback(session.get(Channel, self.channel_id), url)
            session.commit()


@pytest.fixture
def hotline(sessions, runtime):
    org.build_tree(sessions)
    return Hotline(sessions, runtime)


def deliver(hotline, receiver, **kwargs):
    return deliver_due(hotline.sessions, hotline.runtime.clock, receiver, **kwargs)


# -- retries ----------------------------------------------------------------------------------------

def test_a_receiver_that_fails_three_times_gets_the_result_once_it_acknowledges(hotline, clock):
    case_id = hotline.send_case("GD-20260302-0001")
    hotline.do(case_id, "accept")
    receiver = Receiver(503, TimeoutError("timed out"), 500, 200)
    start = clock.now()

    assert deliver(hotline, receiver).failed  # 503 at once: the result is due when it is reached
    waits = []
    for error in ("timeout", "HTTP 500"):
        [row] = hotline.notifications(case_id)
        waits.append(row.next_attempt_at - clock.now())
        clock.advance(row.next_attempt_at - clock.now() - timedelta(seconds=1))
        assert deliver(hotline, receiver).failed == {} and len(receiver.sent) == len(waits)  # not yet
        clock.advance(seconds=1)
        assert list(deliver(hotline, receiver).failed.values()) == [error]
    [row] = hotline.notifications(case_id)
    waits.append(row.next_attempt_at - clock.now())
    clock.advance(waits[-1])
    assert deliver(hotline, receiver).delivered == [row.id]
    clock.advance(days=1)
    assert deliver(hotline, receiver).delivered == []

    [row] = hotline.notifications(case_id)
    assert (row.state, row.attempts, row.last_error) == ("delivered", 4, None)
    assert row.delivered_at == clock.now() - timedelta(days=1)
    assert waits == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert row.delivered_at - start == sum(waits, timedelta())
    assert len(receiver.sent) == 4  # the acknowledged attempt is the last one: nothing after the 2xx
    assert {s.headers[IDEMPOTENCY_HEADER] for s in receiver.sent} == {f"fengqiao-notification-{row.id}"}
    assert len({s.body for s in receiver.sent}) == 1  # every retry is the same notification


def test_the_last_error_says_what_went_wrong(hotline, clock):
    case_id = hotline.send_case("GD-1")
    hotline.do(case_id, "accept")
    receiver = Receiver(503, ConnectionRefusedError(), OSError("network unreachable"))
    errors = []
    for _ in range(3):
        deliver(hotline, receiver)
        [row] = hotline.notifications(case_id)
        errors.append(row.last_error)
        clock.set(row.next_attempt_at)
    assert errors == ["HTTP 503", "connection refused", "OSError: network unreachable"]


def test_a_notification_is_never_dropped_and_waits_at_most_six_hours(hotline, clock):
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert backoff(11) == backoff(12) == backoff(10_000) == timedelta(hours=6)
    case_id = hotline.send_case("GD-1")
    hotline.do(case_id, "accept")
    receiver = Receiver(answer=lambda sent: 502)

    for _ in range(30):
        deliver(hotline, receiver)
        clock.set(hotline.notifications(case_id)[0].next_attempt_at)
    [row] = hotline.notifications(case_id)
    assert (row.state, row.attempts, row.last_error) == ("pending", 30, "HTTP 502")
    assert row.next_attempt_at - row.last_attempt_at == timedelta(hours=6)


def test_jitter_is_injected_by_the_caller(hotline, clock):
    case_id = hotline.send_case("GD-1")
    hotline.do(case_id, "accept")
    deliver(hotline, Receiver(503), jitter=lambda delay: delay + timedelta(seconds=7))
    assert hotline.notifications(case_id)[0].next_attempt_at == clock.now() + timedelta(seconds=37)


# -- order ----------------------------------------------------------------------------------------

def test_a_cases_results_arrive_in_order_and_another_case_is_not_held_up(hotline, clock):
    slow, other = hotline.send_case("GD-1"), hotline.send_case("GD-2")
    hotline.do(slow, "accept")
    slow_code = hotline.notifications(slow)[0].payload["case_code"]
    down = {"slow": True}
    receiver = Receiver(answer=lambda sent: 503 if down["slow"] and sent.json["case_code"] == slow_code else 200)
    deliver(hotline, receiver)  # 受理 of the slow case fails

    hotline.do(slow, "assess", "dispatch")  # 分流 is queued behind the failing 受理
    hotline.do(other, "accept")
    clock.advance(minutes=5)
    result = deliver(hotline, receiver)

    other_code = hotline.notifications(other)[0].payload["case_code"]
    assert receiver.sequences(other_code) == [1] and hotline.notifications(other)[0].state == "delivered"
    assert receiver.sequences(slow_code) == [1, 1]  # the second attempt at 受理; 分流 not sent
    assert [r.state for r in hotline.notifications(slow)] == ["pending", "pending"]
    assert len(result.failed) == 1

    down["slow"] = False
    clock.advance(hours=1)
    deliver(hotline, receiver)  # 受理 then 分流, in one pass
    assert receiver.sequences(slow_code) == [1, 1, 1, 2]
    assert [(r.result, r.state) for r in hotline.notifications(slow)] == [("accepted", "delivered"),
                                                                         ("dispatched", "delivered")]


# -- signing ----------------------------------------------------------------------------------------

def test_the_receiver_verifies_the_signature_with_the_channels_secret(hotline):
    case_id = hotline.send_case("GD-1")
    hotline.do(case_id, "accept")
    receiver = Receiver()
    deliver(hotline, receiver)

    [sent] = receiver.sent
    [row] = hotline.notifications(case_id)
    timestamp, signature = sent.headers[TIMESTAMP_HEADER], sent.headers[SIGNATURE_HEADER]
    assert sent.url == CALLBACK_URL and signature.startswith("sha256=")
    assert sent.headers[NOTIFICATION_HEADER] == str(row.id)
    assert sent.json == {**row.payload, "notification_id": row.id, "sequence": 1}
    assert sent.json["result"] == "accepted" and sent.json["reference"] == "GD-1"
    assert verify_signature(hotline.secret, timestamp, sent.body, signature)
    assert not verify_signature("not-the-secret", timestamp, sent.body, signature)
    assert not verify_signature(hotline.secret, timestamp, sent.body.replace(b"accepted", b"returned"), signature)
    assert not verify_signature(hotline.secret, str(int(timestamp) + 1), sent.body, signature)
    assert not verify_signature(hotline.secret, timestamp, sent.body, None)


# -- no callback, retry now --------------------------------------------------------------------------

def test_a_channel_without_callback_keeps_its_results_pending_until_it_has_one(hotline, clock):
    hotline.set_callback(None)
    case_id = hotline.send_case("GD-1")
    hotline.do(case_id, "accept")
    receiver = Receiver()

    result = deliver(hotline, receiver)
    assert (receiver.sent, result.without_callback) == ([], 1)
    assert hotline.notifications(case_id)[0].state == "pending"

    hotline.set_callback(CALLBACK_URL)
    clock.advance(minutes=1)
    assert len(deliver(hotline, receiver).delivered) == 1


def test_retry_now_sends_at_the_next_pass_instead_of_after_the_backoff(hotline, clock):
    case_id = hotline.send_case("GD-1")
    hotline.do(case_id, "accept")
    receiver = Receiver(503, 503)
    deliver(hotline, receiver)
    deliver(hotline, receiver)  # nothing: 30 s to wait
    clock.set(hotline.notifications(case_id)[0].next_attempt_at)
    deliver(hotline, receiver)  # second failure: a minute to wait
    hotline.do(case_id, "assess", "dispatch")
    second = hotline.notifications(case_id)[1]
    assert len(receiver.sent) == 2

    with hotline.sessions() as session:
        retry_now(session, second.id, clock.now())  # waits for the first: both become due
        session.commit()
    deliver(hotline, receiver)

    assert [(r.state, r.attempts) for r in hotline.notifications(case_id)] == [("delivered", 3), ("delivered", 1)]
    assert [s.json["sequence"] for s in receiver.sent] == [1, 1, 1, 2]


# -- the standard-library transport against a real HTTP receiver -------------------------------------

class _Endpoint(BaseHTTPRequestHandler):
    secret = "shared-secret"
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = verify_signature(self.secret, self.headers[TIMESTAMP_HEADER], body, self.headers[SIGNATURE_HEADER])
        self.received.append((self.path, ok, json.loads(body)))
        status = {"/ok": 204 if ok else 401, "/down": 503, "/moved": 302}[self.path]
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    _Endpoint.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_default_transport_posts_signed_json_and_follows_no_redirect(endpoint):
    from engine.callbacks import sign

    body = json.dumps({"result": "accepted"}).encode()
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: "1772413200",
               SIGNATURE_HEADER: sign("shared-secret", "1772413200", body)}
    assert urllib_transport(endpoint + "/ok", body, headers, 5) == 204
    assert urllib_transport(endpoint + "/down", body, headers, 5) == 503
    assert urllib_transport(endpoint + "/moved", body, headers, 5) == 302  # a GET to /ok would look like a 2xx
    assert [(path, ok) for path, ok, _ in _Endpoint.received] == [("/ok", True), ("/down", True), ("/moved", True)]


# -- two workers --------------------------------------------------------------------------------------

def test_two_workers_at_once_send_each_notification_once(hotline, clock, db_engine):
    if db_engine.dialect.name != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) exist on PostgreSQL only; SQLite runs a single worker")
    cases = [hotline.send_case(f"GD-{n}") for n in range(4)]
    for case_id in cases:
        hotline.do(case_id, "accept")
    hotline.do(cases[0], "assess", "dispatch")  # the first case has two, in order
    sent = Receiver()
    results = []

    def second_worker():
        results.append(deliver(hotline, sent))

    def first_transport(url, body, headers, timeout):
        # While the first worker holds its first notification's lock, the second runs a whole pass.
        if not results and not first_transport.started:
            first_transport.started = True
            thread = threading.Thread(target=second_worker)
            thread.start()
            thread.join(timeout=60)
        return sent(url, body, headers, timeout)

    first_transport.started = False
    first = threading.Thread(target=lambda: results.append(deliver(hotline, first_transport)))
    first.start()
    first.join(timeout=120)

    ids = [s.json["notification_id"] for s in sent.sent]
    assert sorted(ids) == sorted(r.id for r in hotline.notifications())  # every one, each once
    assert all(r.state == "delivered" and r.attempts == 1 for r in hotline.notifications())
    assert sum(len(r.busy) for r in results) >= 1  # the second worker found the first's case held
    first_code = hotline.notifications(cases[0])[0].payload["case_code"]
    assert sent.sequences(first_code) == [1, 2]


# -- the scheduler ------------------------------------------------------------------------------------

def test_the_scheduler_delivers_beside_the_timer_sweep_with_the_transport_it_is_given(hotline, sessions, runtime):
    from engine.scheduler import start_background

    case_id = hotline.send_case("GD-1")
    hotline.do(case_id, "accept")
    receiver = Receiver()
    scheduler = start_background(sessions, runtime, interval_seconds=3600, transport=receiver)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"timer-sweep", "callback-delivery", "locality-jobs"}
        jobs["callback-delivery"].func(*jobs["callback-delivery"].args)  # one run, here instead of in an hour
    finally:
        scheduler.shutdown(wait=False)
    assert len(receiver.sent) == 1 and hotline.notifications(case_id)[0].state == "delivered"
