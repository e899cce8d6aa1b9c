"""Letters a locality issues by itself (自动预警催办): 工作提示函 at 临期, 督办函 at 超期, 风险预警函 for 红/橙.

`[letters]` in a variant.toml (engine/locality_settings.py) names a document type per moment:

- `at_warning`: an open task whose warning time (`human_task.warn_at`, 临期) has passed;
- `at_overdue`: an open task whose due time (`due_at`, 超期) has passed — a 催办 to the handler's queue;
- `high_risk`: an open case whose risk colour is one of the top colours (红、橙) of its scheme.

The scheduler runs `run_due` every minute (engine/locality_jobs.py). Each letter is issued once per
task and moment (once per case for high_risk), numbered in the handling center's series and logged
as an `auto_letter` event — the same letter and timeline entry a supervisor's manual letter makes
(engine/supervision_letters.issue_task_letter). What the category's BPMN already issues is not
issued twice: a boundary timer of the same kind on the task that declares the same document
(邻里's 临期 工作提示函), or a 风险预警函 the case already holds. A paused task draws no letter: its
clock is stopped. The switch is read for the center handling the case, nearest first.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .actors import SYSTEM
from .documents import DOCUMENT_TYPES, document_types_of, issue_document
from .events import EventLog
from .locality_settings import locality_setting, places_with
from .models import Case, CaseDocument, CaseEvent, HumanTask
from .supervision_letters import issue_task_letter, letter_details
from .variant_lookup import ancestors

log = logging.getLogger(__name__)

SETTING = "letters"
EVENT_KIND = "auto_letter"
TOP_COLOURS = ("红", "橙")  # 重大, 较大: leaders and departments are warned at once
# moment -> (the human_task column that says it has come, the timer kind a BPMN marks it with)
TASK_MOMENTS = {"at_warning": ("warn_at", "warning"), "at_overdue": ("due_at", "overdue")}
MOMENT_WORDS = {"at_warning": "临期自动提示", "at_overdue": "超期自动催办", "high_risk": "高风险自动预警"}
BATCH = 500


def run_due(session_factory: Callable[[], Session], runtime) -> int:
    """Issue every letter that has come due by the runtime's clock; returns how many were issued."""
    now = runtime.clock.now()
    variants = getattr(runtime.registry, "variants", None)
    places = places_with(variants, SETTING) if variants is not None else {}
    made = 0
    for moment, (column, _) in TASK_MOMENTS.items():
        codes = [code for code, table in places.items() if moment in table]
        if codes:
            made += _task_letters(session_factory, runtime, moment, column, codes, now)
    codes = [code for code, table in places.items() if "high_risk" in table]
    if codes:
        made += _risk_letters(session_factory, runtime, codes, now)
    return made


def _in_places(codes: list[str]):
    """Cases handled at or below any of `codes` (a rough filter; `_configured` decides nearest first)."""
    place = Case.handling_jurisdiction_code
    return or_(*(place.startswith(_subtree_prefix(code)) for code in codes))


def _subtree_prefix(code: str) -> str:
    # A city 150200 covers 1502xx and a province 150000 covers 15xxxx: their codes end in zero pairs.
    if len(code) == 6:
        while code.endswith("00") and len(code) > 2:
            code = code[:-2]
    return code


def _task_letters(session_factory, runtime, moment: str, column: str, codes: list[str], now: datetime) -> int:
    with session_factory() as session:
        candidates = session.execute(
            select(HumanTask.id, HumanTask.case_id).join(Case, Case.id == HumanTask.case_id)
            .where(HumanTask.state == "ready", HumanTask.paused_at.is_(None), getattr(HumanTask, column) < now,
                   Case.status == "open", _in_places(codes))
            .order_by(getattr(HumanTask, column)).limit(BATCH)).all()
    made = 0
    for task_id, case_id in candidates:
        with session_factory() as session:
            try:
                made += _task_letter(session, runtime, moment, task_id, case_id, now)
                session.commit()
            except Exception:  # noqa: BLE001 — one broken case must not stop the others
                session.rollback()
                log.exception("auto letter %s for task %s failed", moment, task_id)
    return made


def _task_letter(session: Session, runtime, moment: str, task_id: str, case_id: int, now: datetime) -> int:
    case = _locked_case(session, case_id)
    if case is None:
        return 0  # someone is working on the case: the next run picks the task up
    task = session.get(HumanTask, task_id)
    session.refresh(task)
    if task.state != "ready" or task.paused_at is not None:
        return 0
    doc_type = _configured(session, runtime, case, moment)
    if doc_type is None or _already(session, case.id, task.id, moment):
        return 0
    if _process_issues(runtime.bundle(session, case), task.element_id, TASK_MOMENTS[moment][1], doc_type):
        return 0
    details = letter_details(session, SYSTEM, task, case, MOMENT_WORDS[moment], now)
    details["sent_by"], details["sent_by_role"] = "系统自动", ""
    issue_task_letter(session, runtime, task, case, doc_type, details, now, SYSTEM.username, EVENT_KIND,
                      MOMENT_WORDS[moment], extra={"moment": moment})
    return 1


def _risk_letters(session_factory, runtime, codes: list[str], now: datetime) -> int:
    with session_factory() as session:
        case_ids = session.scalars(
            select(Case.id).where(Case.status == "open", Case.risk_color.in_(TOP_COLOURS), _in_places(codes))
            .order_by(Case.id).limit(BATCH)).all()
    made = 0
    for case_id in case_ids:
        with session_factory() as session:
            try:
                made += _risk_letter(session, runtime, case_id, now)
                session.commit()
            except Exception:  # noqa: BLE001
                session.rollback()
                log.exception("auto risk letter for case %s failed", case_id)
    return made


def _risk_letter(session: Session, runtime, case_id: int, now: datetime) -> int:
    case = _locked_case(session, case_id)
    if case is None or case.status != "open" or case.risk_color not in TOP_COLOURS:
        return 0
    doc_type = _configured(session, runtime, case, "high_risk")
    if doc_type is None:
        return 0
    # Once per case: the 风险预警函 the process issued at 研判, or one issued here before.
    if session.scalar(select(CaseDocument.id).where(CaseDocument.case_id == case.id,
                                                    CaseDocument.doc_type == doc_type).limit(1)) is not None:
        return 0
    category = runtime.registry.categories.get(case.category_code)
    document = issue_document(session, case, doc_type,
                              {"risk_color": case.risk_color, "note": MOMENT_WORDS["high_risk"], "sent_by": "系统自动"},
                              now, runtime.renderer, category.name if category else case.category_code)
    EventLog(session, case.id, now).add(
        SYSTEM.username, EVENT_KIND,
        f"{MOMENT_WORDS['high_risk']}：出具{DOCUMENT_TYPES[doc_type].title} {document.number}（风险等级 {case.risk_color}）",
        data={"document_id": document.id, "doc_type": doc_type, "number": document.number, "moment": "high_risk",
              "risk_color": case.risk_color})
    session.flush()
    return 1


def _locked_case(session: Session, case_id: int) -> Case | None:
    # As the timer sweep does: a case another writer holds is passed over, not waited for.
    query = select(Case).where(Case.id == case_id).with_for_update(skip_locked=True)
    return session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def _configured(session: Session, runtime, case: Case, moment: str) -> str | None:
    """The document type the nearest variant configures for `moment` (a township may differ from its county)."""
    place = case.handling_jurisdiction_code or case.jurisdiction_code
    table = locality_setting(runtime.registry.variants, ancestors(session, place), SETTING, None) or {}
    return table.get(moment)


def _already(session: Session, case_id: int, task_id: str, moment: str) -> bool:
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == EVENT_KIND,
                                                     CaseEvent.task_id == task_id))
    return any(event.data.get("moment") == moment for event in events)


def _process_issues(bundle, element_id: str, timer_kind: str, doc_type: str) -> bool:
    """Whether the process itself issues `doc_type` at this moment of the task: a boundary timer of
    `timer_kind` on `element_id` that declares the document."""
    timers = [t.element_id for t in bundle.timers.values() if t.target == element_id and t.kind == timer_kind]
    if not timers:
        return False
    for spec in bundle.all_specs():
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) in timers:
                properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
                if doc_type in document_types_of(properties.get("documents")):
                    return True
    return False
