"""The periodic work of locality capabilities (日提醒, 周督办, recurring 研判 meetings, automatic
letters …), run by the scheduler next to the timer sweep.

Each job is `run_due(session_factory, runtime) -> int`: it looks at the runtime's clock, does what
has come due since it last ran (idempotently: a digest or a meeting for a day or period is made
once, however often the job runs) and returns how many things it made. Tests call the same
functions with a fake clock; nothing here sleeps.
"""
from __future__ import annotations

import importlib
import logging
from typing import Callable

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# id -> "module:function", imported when run so that a job's module loads only with the scheduler.
JOBS: dict[str, str] = {
    "digests": "engine.digests:run_due",
    "analysis_meetings": "engine.analysis_meetings:run_due",
    "auto_letters": "engine.auto_letters:run_due",
}


def job_functions() -> dict[str, Callable]:
    result = {}
    for job_id, target in JOBS.items():
        module_name, function_name = target.split(":")
        result[job_id] = getattr(importlib.import_module(module_name), function_name)
    return result


def run_locality_jobs(session_factory: Callable[[], Session], runtime) -> dict[str, int]:
    """Run every job once; one failing job is logged and does not stop the others."""
    made = {}
    for job_id, function in job_functions().items():
        try:
            made[job_id] = function(session_factory, runtime)
        except Exception:  # noqa: BLE001 — a periodic job must not kill the scheduler thread
            log.exception("locality job %s failed", job_id)
            made[job_id] = 0
        if made[job_id]:
            log.info("locality job %s: %d made", job_id, made[job_id])
    return made
