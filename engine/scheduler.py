"""APScheduler wiring: run the timer sweep and the channel callback delivery every few seconds, in the
web process or on its own."""
from __future__ import annotations

import logging
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session

from .callbacks import Transport, deliver_due, spread_jitter, urllib_transport
from .locality_jobs import run_locality_jobs
from .runtime import CaseRuntime
from .timers import sweep_due_timers

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 15


def _sweep_job(session_factory: Callable[[], Session], runtime: CaseRuntime) -> None:
    result = sweep_due_timers(session_factory, runtime)
    if result.fired or result.failed:
        log.info("timer sweep: %d fired in %d cases, %d failed", len(result.fired), result.cases_touched,
                 len(result.failed))


def _delivery_job(session_factory: Callable[[], Session], runtime: CaseRuntime, transport: Transport) -> None:
    result = deliver_due(session_factory, runtime.clock, transport, jitter=spread_jitter)
    if result.delivered or result.failed:
        # Each failure is logged by engine/callbacks.py with its reason; this is the pass summary.
        log.info("callback delivery: %d delivered, %d failed (rescheduled)", len(result.delivered),
                 len(result.failed))


def _add_jobs(scheduler, session_factory, runtime: CaseRuntime, interval_seconds: int,
              transport: Transport | None) -> None:
    scheduler.add_job(_sweep_job, "interval", seconds=interval_seconds, args=[session_factory, runtime],
                      id="timer-sweep", max_instances=1, coalesce=True)
    # Digests and meetings are made once per day or period whenever the job runs: a minute is plenty.
    scheduler.add_job(run_locality_jobs, "interval", seconds=max(interval_seconds, 60),
                      args=[session_factory, runtime], id="locality-jobs", max_instances=1, coalesce=True)
    scheduler.add_job(_delivery_job, "interval", seconds=interval_seconds,
                      args=[session_factory, runtime, transport or urllib_transport],
                      id="callback-delivery", max_instances=1, coalesce=True)


def start_background(session_factory, runtime: CaseRuntime, interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
                     transport: Transport | None = None) -> BackgroundScheduler:
    """Start sweeping and delivering in a background thread (the embedded default of `fengqiao serve`).

    `transport` sends callbacks (default: urllib, see engine/callbacks.py)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    _add_jobs(scheduler, session_factory, runtime, interval_seconds, transport)
    scheduler.start()
    return scheduler


def run_blocking(session_factory, runtime: CaseRuntime, interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
                 transport: Transport | None = None) -> None:
    """Sweep and deliver forever in this process (`fengqiao scheduler`, for production)."""
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, session_factory, runtime, interval_seconds, transport)
    scheduler.start()
