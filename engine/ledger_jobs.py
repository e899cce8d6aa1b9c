"""A 台账 import as a recorded job: who imported which file, how far it got and how it ended.

`open_job` records the import (state validating) so a page can follow it; `run_job` checks the file
again (the database may have changed since the dry run), imports it all or nothing and leaves the
LedgerImport row in its final state: invalid (a row has a problem, nothing imported), done (every
case registered; the row and the cases commit together) or failed (the import transaction stopped
at a row and was rolled back). `run_job` opens its own sessions, so it can run in a background
thread; progress while it runs is kept as engine/ledger_progress.py explains.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from .actors import Actor
from .ledger_import import ImportedCase, LedgerReport, RowError, check_ledger, import_ledger
from .ledger_progress import PERSIST_EVERY, ProgressBoard, ProgressTracker
from .ledger_sheet import read_ledger
from .models import LedgerImport
from .runtime import CaseRuntime

log = logging.getLogger(__name__)

STATE_NAMES = {"validating": "校验中", "invalid": "校验未通过", "importing": "导入中", "done": "导入完成",
               "failed": "导入失败"}
FINISHED = frozenset({"invalid", "done", "failed"})
READER_ROLES = frozenset({"admin", "director"})  # besides the importer: who may follow an import


def open_job(session: Session, filename: str, actor: Actor, now) -> LedgerImport:
    """Record an import of `filename` by `actor`, about to be run; committed."""
    job = LedgerImport(filename=filename[:200], jurisdiction_code=actor.jurisdiction_code, state="validating",
                       total=0, done=0, report={}, created_by=actor.username, created_at=now)
    session.add(job)
    session.commit()
    return job


def may_read(actor: Actor, job: LedgerImport) -> bool:
    """The importer, and the 中心主任 and 系统管理员 over the importer's unit, may follow an import."""
    return job.created_by == actor.username or any(
        g.role in READER_ROLES and g.covers(job.jurisdiction_code) for g in actor.grants)


def run_job(sessions: sessionmaker, runtime: CaseRuntime, job_id: int, source: Path | bytes, filename: str,
            actor: Actor, *, board: ProgressBoard | None = None,
            listener: Callable[[int, int], None] | None = None, every: int = PERSIST_EVERY) -> LedgerReport:
    """Check and import `source` for the job `job_id` opened by open_job; returns what happened.

    Never raises for a bad file or a failed row: those end in the job's state and report. An
    unexpected error is logged and ends the job as failed, with nothing imported.
    """
    if board is not None:
        board.set(job_id, "validating")
    report = LedgerReport()
    try:
        with sessions() as session:
            check = check_ledger(session, runtime, read_ledger(source, filename), actor)
            if not check.ok:
                report = LedgerReport(total=check.data_rows, errors=check.errors)
                _finish(session, runtime, job_id, "invalid", report)
                return report
            _update(session, job_id, state="importing", total=len(check.rows), done=0)
            session.commit()
            if board is not None:
                board.set(job_id, "importing", 0, len(check.rows))
            tracker = ProgressTracker(sessions, job_id, board, listener, every)

            def record_done(session: Session, cases: list[ImportedCase]) -> None:
                done = LedgerReport(total=len(cases), cases=cases, committed=True)
                _update(session, job_id, **_final("done", done, runtime.clock.now()))

            report = import_ledger(session, runtime, check, actor, progress=tracker, before_commit=record_done)
            if not report.committed:
                _finish(session, runtime, job_id, "failed", report)
            return report
    except Exception:
        log.exception("ledger import %s failed", job_id)
        report = LedgerReport(total=report.total, errors=[RowError("", None, None, "导入时发生内部错误，本次未导入任何案件；"
                                                                                "请联系系统管理员查看日志")])
        with sessions() as session:
            _finish(session, runtime, job_id, "failed", report)
        return report
    finally:
        if board is not None:
            board.clear(job_id)


def job_status(job: LedgerImport, board: ProgressBoard | None = None) -> dict[str, Any]:
    """What the progress endpoint answers: the live count while running, the outcome when finished."""
    live = board.get(job.id) if board is not None and job.state not in FINISHED else None
    state, done, total = (live.state, live.done, live.total) if live else (job.state, job.done, job.total)
    report = job.report or {}
    return {
        "id": job.id, "state": state, "state_name": STATE_NAMES.get(state, state), "done": done, "total": total,
        "finished": state in FINISHED, "codes": [case["code"] for case in report.get("cases", [])],
        "error_count": len(report.get("errors", [])),
    }


def report_errors(job: LedgerImport) -> list[RowError]:
    """The problems a finished job recorded, as RowError again."""
    return [RowError(e.get("sheet", ""), e.get("row"), e.get("column"), e["message"])
            for e in (job.report or {}).get("errors", [])]


def _final(state: str, report: LedgerReport, now) -> dict[str, Any]:
    return {
        "state": state, "total": report.total, "done": len(report.cases), "finished_at": now,
        "report": {
            "errors": [{"sheet": e.sheet, "row": e.row, "column": e.column, "message": e.message}
                       for e in report.errors],
            "cases": [{"row": c.row, "id": c.case_id, "code": c.code, "category": c.category_code}
                      for c in report.cases],
            "failed_row": report.failed_row,
        },
    }


def _finish(session: Session, runtime: CaseRuntime, job_id: int, state: str, report: LedgerReport) -> None:
    session.rollback()
    _update(session, job_id, **_final(state, report, runtime.clock.now()))
    session.commit()


def _update(session: Session, job_id: int, **values) -> None:
    # Fresh from the database: on PostgreSQL the progress tracker has changed `done` meanwhile.
    job = session.get(LedgerImport, job_id, populate_existing=True)
    for name, value in values.items():
        setattr(job, name, value)
    session.flush()
