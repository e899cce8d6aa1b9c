"""Documents a locality issues at the stages of every case (东河区's “三单”), whatever the category.

`[stage_documents]` in a variant.toml (engine/locality_settings.py) names a document type for the
stages 受理 (accepted), 分流 (dispatched) and 办结 (concluded). After each engine run the run's events
say which stages were reached — read exactly as the channel results read them
(engine/channel_results.results_of), so a 12345 caller and the citizen's notices agree — and the
configured document is issued once per case: when the case already holds a document of that type
(the category's BPMN declared it at that step, or an earlier run issued it), nothing is issued again.
The place is the center handling the case, looked up nearest first (a township inherits its county).
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .channel_results import results_of
from .documents import DocumentRenderer, issue_document
from .events import EventLog
from .locality_settings import locality_setting
from .models import Case, CaseDocument, CaseEvent
from .variant_lookup import ancestors

SETTING = "stage_documents"
STAGE_NAMES = {"accepted": "受理", "dispatched": "分流", "concluded": "办结"}


def issue_stage_documents(session: Session, case: Case, events: Sequence[CaseEvent], now: datetime,
                          renderer: DocumentRenderer, category_name: str, variants,
                          log: EventLog) -> list[CaseDocument]:
    """Issue the documents the case's locality configures for the stages `events` (one run's) reach.

    Flushed, not committed: it runs inside the transaction of the engine run (CaseRuntime._run), after
    the projection has issued what the BPMN declares. Returns the new documents.
    """
    stages = results_of(session, list(events))
    if not stages:
        return []  # most runs reach no stage: no lookup up the tree for them
    place = case.handling_jurisdiction_code or case.jurisdiction_code
    table = locality_setting(variants, ancestors(session, place), SETTING, None)
    if not table:
        return []
    issued = []
    for stage in stages:
        doc_type = table.get(stage)
        if not doc_type or _has_document(session, case, doc_type):
            continue
        document = issue_document(session, case, doc_type, {"stage": STAGE_NAMES[stage]}, now, renderer,
                                  category_name)
        log.add("system", "document_issued", f"出具{document.title}：{document.number}（{STAGE_NAMES[stage]}）",
                data={"document_id": document.id, "doc_type": doc_type, "number": document.number,
                      "stage": stage, "configured_by": SETTING})
        issued.append(document)
    return issued


def _has_document(session: Session, case: Case, doc_type: str) -> bool:
    session.flush()  # documents the projection issued in this run count too
    return session.scalar(select(CaseDocument.id).where(
        CaseDocument.case_id == case.id, CaseDocument.doc_type == doc_type).limit(1)) is not None
