"""Running a confirmed 台账 import off the request: in a background thread with its own app context
and sessions, or in the request itself when LEDGER_IMPORT_SYNC is set (tests, tiny deployments).

The app keeps one ProgressBoard (engine/ledger_progress.py) that the progress endpoint reads while
an import's transaction is open. It lives on the app rather than in a module global because import
ids are per database: two apps in one process (the test suite) must not see each other's imports.
The threads are kept too, so a test can join one instead of sleeping. They are not daemons: stopping
the server lets a running import finish (or roll back) rather than cutting it off mid-transaction.
"""
from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.orm import sessionmaker

from engine.actors import Actor
from engine.ledger_jobs import run_job
from engine.ledger_progress import PERSIST_EVERY, ProgressBoard

from .extensions import db
from .services import services

BOARD_KEY, THREADS_KEY = "fengqiao_ledger_board", "fengqiao_ledger_threads"


def board(app: Flask | None = None) -> ProgressBoard:
    app = app or current_app
    return app.extensions.setdefault(BOARD_KEY, ProgressBoard())


def running(app: Flask | None = None) -> dict[int, threading.Thread]:
    """Import threads by LedgerImport id (finished ones are forgotten when the next one starts)."""
    app = app or current_app
    return app.extensions.setdefault(THREADS_KEY, {})


def start(job_id: int, path: Path, filename: str, actor: Actor) -> threading.Thread | None:
    """Run import `job_id` of the kept upload at `path` (deleted afterwards); the thread, or None if
    it already ran in this request."""
    app = current_app._get_current_object()
    board(app).set(job_id, "validating")  # so the first poll never finds the job "unknown"
    if app.config.get("LEDGER_IMPORT_SYNC"):
        _run(app, job_id, path, filename, actor)
        return None
    threads = running(app)
    for finished in [key for key, thread in threads.items() if not thread.is_alive()]:
        threads.pop(finished, None)
    thread = threading.Thread(target=_run, args=(app, job_id, path, filename, actor),
                              name=f"ledger-import-{job_id}")
    threads[job_id] = thread
    thread.start()
    return thread


def _run(app: Flask, job_id: int, path: Path, filename: str, actor: Actor) -> None:
    with app.app_context():
        try:
            sessions = sessionmaker(bind=db.engine, expire_on_commit=False)
            run_job(sessions, services().runtime, job_id, path, filename, actor, board=board(app),
                    every=app.config.get("LEDGER_IMPORT_PROGRESS_EVERY", PERSIST_EVERY))
        finally:
            path.unlink(missing_ok=True)
