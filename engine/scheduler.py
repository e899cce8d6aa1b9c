"""APScheduler wiring: run the timer sweep every few seconds, in the web process or on its own."""
from __future__ import annotations

import logging
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session

from .runtime import CaseRuntime
from .timers import sweep_due_timers

log = logging.getLogger(__name__)
DEFAULT_INTERVAL_SECONDS = 15


def _sweep_job(session_factory: Callable[[], Session], runtime: CaseRuntime) -> None:
    result = sweep_due_timers(session_factory, runtime)
    if result.fired or result.failed:
        log.info("timer sweep: %d fired in %d cases, %d failed", len(result.fired), result.cases_touched,
                 len(result.failed))


def start_background(session_factory, runtime: CaseRuntime,
                     interval_seconds: int = DEFAULT_INTERVAL_SECONDS) -> BackgroundScheduler:
    """Start sweeping in a background thread (the embedded default of `fengqiao serve`)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(_sweep_job, "interval", seconds=interval_seconds, args=[session_factory, runtime],
                      id="timer-sweep", max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler


def run_blocking(session_factory, runtime: CaseRuntime, interval_seconds: int = DEFAULT_INTERVAL_SECONDS) -> None:
    """Sweep forever in this process (`fengqiao scheduler`, for production)."""
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(_sweep_job, "interval", seconds=interval_seconds, args=[session_factory, runtime],
                      id="timer-sweep", max_instances=1, coalesce=True)
    scheduler.start()
