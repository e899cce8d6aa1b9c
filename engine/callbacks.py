"""Delivering results to channels: the outbox worker behind `channel_notification`.

engine/channel_results.py writes a notification in the transaction that reached a result; this module
POSTs it to the channel's callback URL, signed with the channel's secret, until the receiver answers
2xx. Delivery is at least once: a receiver may see a notification again (our commit after its 2xx can
fail), so every request carries an `Idempotency-Key` and the receiver dedupes on it.

- Order: a case's notifications go out strictly by `sequence`; n+1 waits while n is pending, other
  cases are not held up by it.
- Retries: a failure (non-2xx, timeout, connection error) reschedules with exponential backoff
  (30 s, 1 min, 2 min … at most 6 h). Nothing is ever dropped; it stays pending, retried at the cap.
- No callback URL (or a disabled channel): notifications stay pending and visible, and the channel can
  still pull the case's status.
- Concurrency: each notification is sent under its row lock (`FOR UPDATE SKIP LOCKED`) held until the
  outcome is committed, so two workers never send one notification at once. SQLite has no row locks;
  run a single worker there.

`deliver_due` is one plain function: the scheduler calls it every few seconds, the CLI once, tests with
a fake clock and a recording transport.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from .clock import Clock
from .errors import NotFound
from .models import Channel, ChannelNotification

log = logging.getLogger(__name__)

PENDING, DELIVERED = "pending", "delivered"
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
DEFAULT_TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-Fengqiao-Signature"
TIMESTAMP_HEADER = "X-Fengqiao-Timestamp"
NOTIFICATION_HEADER = "X-Fengqiao-Notification-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "Fengqiao-Callback/1"


class Transport(Protocol):
    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """POST `body` to `url`; return the HTTP status, or raise on timeout / connection failure."""


Jitter = Callable[[timedelta], timedelta]


@dataclass
class DeliveryResult:
    delivered: list[int] = field(default_factory=list)  # notification ids acknowledged in this pass
    failed: dict[int, str] = field(default_factory=dict)  # notification id -> error, rescheduled
    busy: list[int] = field(default_factory=list)  # case ids whose head another worker holds
    without_callback: int = 0  # pending notifications of channels with no URL (or disabled)


# -- signing --------------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: `sha256=` + hex HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, header: str | None) -> bool:
    """True if `header` (X-Fengqiao-Signature) signs `timestamp` and `body` with `secret`.

    Receivers should also refuse a timestamp far from their clock (say 5 minutes) against replays.
    """
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header.strip())


def request_of(notification: ChannelNotification, channel: Channel, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers a notification is sent with (the payload plus its id and sequence)."""
    body = json.dumps({**notification.payload, "notification_id": notification.id,
                       "sequence": notification.sequence},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(channel.callback_secret or "", timestamp, body),
        TIMESTAMP_HEADER: timestamp,
        NOTIFICATION_HEADER: str(notification.id),
        IDEMPOTENCY_HEADER: f"fengqiao-notification-{notification.id}",
    }
    return body, headers


# -- backoff --------------------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s doubling each time, capped at 6 h."""
    doublings = min(max(attempts, 1) - 1, 20)  # 2**20 × 30 s is far past the cap; avoids huge ints
    return min(FIRST_RETRY * (2 ** doublings), MAX_RETRY)


def no_jitter(delay: timedelta) -> timedelta:
    return delay


def spread_jitter(delay: timedelta) -> timedelta:
    """Up to 10% later, so receivers coming back up are not hit by every retry at once."""
    return delay + delay * random.uniform(0, 0.1)


# -- the default transport ------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib turns a redirected POST into a bodiless GET whose 200 would look like an acknowledgement.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def urllib_transport(url: str, body: bytes, headers: dict[str, str], timeout: float = DEFAULT_TIMEOUT_SECONDS) -> int:
    """POST with the standard library; returns the status (also for 4xx/5xx), raises on no answer."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(4096)  # drain a little so the connection closes cleanly
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def describe_failure(exc: BaseException) -> str:
    """A short reason for `last_error`: "timeout", "connection refused", …"""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "host not found"
    text = str(reason) or type(reason).__name__
    return f"{type(reason).__name__}: {text}"[:200]


# -- the worker -----------------------------------------------------------------------------------

def deliver_due(session_factory: Callable[[], Session], clock: Clock, transport: Transport = urllib_transport,
                batch: int = 100, jitter: Jitter = no_jitter,
                timeout: float = DEFAULT_TIMEOUT_SECONDS) -> DeliveryResult:
    """Send every notification that is due, per case in sequence order; at most `batch` sends."""
    now = clock.now()
    result = DeliveryResult()
    with session_factory() as session:
        case_ids = _cases_with_due_head(session, now, batch)
        result.without_callback = _count_without_callback(session)
    sends = 0
    for case_id in case_ids:
        # After an acknowledgement the case's next notification may already be due: send it too.
        while sends < batch:
            outcome = _deliver_head(session_factory, case_id, clock, transport, jitter, timeout, result)
            if outcome is None:
                break
            sends += 1
            if not outcome:
                break
    return result


def _cases_with_due_head(session: Session, now: datetime, limit: int) -> list[int]:
    """Cases whose earliest pending notification is due and has somewhere to go, oldest first."""
    earlier = aliased(ChannelNotification)
    head = ~exists().where(earlier.case_id == ChannelNotification.case_id, earlier.state == PENDING,
                           earlier.sequence < ChannelNotification.sequence)
    rows = session.scalars(
        select(ChannelNotification.case_id).join(Channel, Channel.id == ChannelNotification.channel_id)
        .where(ChannelNotification.state == PENDING, ChannelNotification.next_attempt_at <= now, head,
               Channel.callback_url.is_not(None), Channel.active.is_(True))
        .order_by(ChannelNotification.next_attempt_at, ChannelNotification.id).limit(limit)
    ).all()
    return list(dict.fromkeys(rows))


def _count_without_callback(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(ChannelNotification)
        .join(Channel, Channel.id == ChannelNotification.channel_id)
        .where(ChannelNotification.state == PENDING,
               (Channel.callback_url.is_(None)) | (Channel.active.is_(False)))) or 0


def _deliver_head(session_factory, case_id: int, clock: Clock, transport: Transport, jitter: Jitter,
                  timeout: float, result: DeliveryResult) -> bool | None:
    """Send the case's earliest pending notification if due: True delivered, False failed, None not sent."""
    now = clock.now()
    with session_factory() as session:
        head = session.execute(
            select(ChannelNotification.id, ChannelNotification.next_attempt_at)
            .where(ChannelNotification.case_id == case_id, ChannelNotification.state == PENDING)
            .order_by(ChannelNotification.sequence).limit(1)).first()
        if head is None or head.next_attempt_at > now:
            return None
        # Lock exactly the head: SKIP LOCKED on "the first pending one" would hand us n+1 while
        # another worker is still sending n.
        notification = session.scalar(
            select(ChannelNotification).where(ChannelNotification.id == head.id, ChannelNotification.state == PENDING)
            .with_for_update(skip_locked=True))
        if notification is None:
            result.busy.append(case_id)
            return None
        channel = session.get(Channel, notification.channel_id)
        if not channel.callback_url or not channel.active:
            return None
        error = _send(notification, channel, now, transport, timeout)
        notification.attempts += 1
        notification.last_attempt_at = now
        if error is None:
            notification.state, notification.delivered_at, notification.last_error = DELIVERED, now, None
            result.delivered.append(notification.id)
        else:
            notification.last_error = error
            notification.next_attempt_at = now + jitter(backoff(notification.attempts))
            result.failed[notification.id] = error
            log.warning("callback %s to channel %s (case %s) failed: %s", notification.id, channel.code,
                        case_id, error)
        session.commit()
        return error is None


def _send(notification: ChannelNotification, channel: Channel, now: datetime, transport: Transport,
          timeout: float) -> str | None:
    """None if the receiver acknowledged (2xx), else a short reason."""
    if not channel.callback_secret:
        return "no callback secret; rotate the channel's secret"
    body, headers = request_of(notification, channel, now)
    try:
        status = transport(channel.callback_url, body, headers, timeout)
    except Exception as exc:  # whatever the network did, the notification must stay and be retried
        return describe_failure(exc)
    return None if 200 <= status < 300 else f"HTTP {status}"


# -- administration -------------------------------------------------------------------------------

def retry_now(session: Session, notification_id: int, now: datetime) -> ChannelNotification:
    """Make a pending notification due now (and the earlier pending ones of its case it waits for).

    Attempts and the last error are kept; the next delivery pass sends it. A delivered one is left alone.
    """
    notification = session.get(ChannelNotification, notification_id)
    if notification is None:
        raise NotFound(f"channel notification {notification_id} does not exist")
    if notification.state != PENDING:
        return notification
    waiting = session.scalars(select(ChannelNotification).where(
        ChannelNotification.case_id == notification.case_id, ChannelNotification.state == PENDING,
        ChannelNotification.sequence <= notification.sequence))
    for row in waiting:
        row.next_attempt_at = min(row.next_attempt_at, now)
    return notification
