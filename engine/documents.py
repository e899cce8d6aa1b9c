"""Documents (文书, “三单两函” and others): numbered, rendered from templates, kept as issued.

A process element declares the documents it produces in its `documents` property (comma-separated
types). After an engine run `generate_documents` issues every declared document whose element has
happened — a task completed, a timer fired, a throw event reached — and that this case does not have
yet for that task. `issue_document` issues one the engine decides on outside BPMN (延期告知书).

Numbers are `<jurisdiction>-<year>-<prefix><seq>` (150207-2026-受00001), counted per jurisdiction,
type and Beijing year with the same atomic counter as case codes. Templates live in
`documents/templates/` at the top of the repository so a county can adapt wording and layout; the
HTML is stored as issued, so a later template edit never changes an issued document. Personal data
is masked before it reaches a template: names stay, ID and phone numbers keep only their ends.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from jinja2 import Environment, FileSystemLoader, Undefined
from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .calendar import SHANGHAI
from .case_codes import next_number
from .json_data import json_copy
from .masking import mask_field, mask_text
from .status_link import qr_svg, status_url
from .models import Case, CaseDocument, CaseEvent, HumanTask, Jurisdiction, User
from .task_meta import ROLES
from .variant_lookup import ancestors

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "documents" / "templates"
PROPERTY = "documents"


@dataclass(frozen=True)
class DocumentType:
    code: str
    title: str  # 受理告知单
    prefix: str  # the number's type mark: 受


DOCUMENT_TYPES: dict[str, DocumentType] = {t.code: t for t in (
    DocumentType("acceptance_notice", "受理告知单", "受"),
    DocumentType("transfer_order", "转送交办单", "交"),
    DocumentType("result_notice", "结果告知单", "结"),
    DocumentType("work_reminder", "工作提示函", "提"),
    DocumentType("risk_warning", "风险预警函", "预"),
    DocumentType("supervision_letter", "督办函", "督"),
    DocumentType("mediation_agreement", "调解协议书", "调协"),
    DocumentType("mediation_termination", "调解终结书", "调终"),
    DocumentType("legal_route", "法治化路线图", "路"),
    DocumentType("extension_notice", "延期告知书", "延"),
)}


def document_types_of(value: str | None) -> list[str]:
    """The document types a `documents` property lists, in order (commas, also 、 and ，)."""
    if not value:
        return []
    for separator in ("，", "、"):
        value = value.replace(separator, ",")
    return [part.strip() for part in value.split(",") if part.strip()]


def check_document_types(properties_value: str | None) -> str | None:
    """What is wrong with a `documents` property value, or None if every entry is a known type.

    The lint reports the message at the element, e.g. for `value="acceptance_notic"`.
    """
    types = document_types_of(properties_value)
    if not types:
        return (f"{PROPERTY} property is empty; list document types separated by commas, "
                f"e.g. acceptance_notice,transfer_order")
    unknown = [t for t in types if t not in DOCUMENT_TYPES]
    if unknown:
        known = ", ".join(DOCUMENT_TYPES)
        return f"{PROPERTY}: unknown document type {', '.join(map(repr, unknown))}; use one of {known}"
    repeated = sorted({t for t in types if types.count(t) > 1})
    if repeated:
        return f"{PROPERTY}: {', '.join(repeated)} listed more than once; an element issues each document once"
    return None


# -- rendering ---------------------------------------------------------------------------------

class DocumentRenderer:
    """Renders document templates (`<doc_type>.html`, each extending `_base.html`) to full HTML pages.

    Autoescaping is on: case data is typed by clerks and citizens. `center_names` maps a
    jurisdiction code (or a prefix of one) to the issuing center's name for the seal line; without
    one the line is left blank for the stamp.

    `variant_dirs(chain)` gives the template folders of county variants for a jurisdiction chain
    (nearest first, engine/variants.py); a template there — `_base.html` too — replaces the one in
    `templates_dir` for cases of that jurisdiction and below.

    `public_base_url` is where citizens reach the public status page (https://fengqiao.example.cn),
    or a function returning it at issuing time (the web layer may derive it from the request); with
    none, notices carry no status link or QR code.
    """

    def __init__(self, templates_dir: Path = TEMPLATES_DIR, center_names: Mapping[str, str] | None = None,
                 variant_dirs: Callable[[Sequence[str]], Sequence[Path]] | None = None,
                 public_base_url: str | Callable[[], str | None] | None = None):
        self.templates_dir = Path(templates_dir)
        self.center_names = dict(center_names or {})
        self.variant_dirs = variant_dirs
        self.public_base_url = public_base_url
        self._envs: dict[tuple[str, ...], Environment] = {}
        self.env = self._environment((str(self.templates_dir),))

    def render(self, doc_type: str, context: Mapping[str, Any], jurisdiction_chain: Sequence[str] = ()) -> str:
        """The document as a complete HTML page with its print stylesheet, from the templates in force
        for `jurisdiction_chain` (variant_lookup.ancestors of the issuing jurisdiction; none: the base)."""
        if doc_type not in DOCUMENT_TYPES:
            raise ValueError(f"unknown document type {doc_type!r}; use one of {', '.join(DOCUMENT_TYPES)}")
        variants = self.variant_dirs(jurisdiction_chain) if self.variant_dirs and jurisdiction_chain else ()
        env = self._environment((*(str(d) for d in variants), str(self.templates_dir)))
        return env.get_template(f"{doc_type}.html").render(context)

    def _environment(self, search_path: tuple[str, ...]) -> Environment:
        env = self._envs.get(search_path)
        if env is None:
            env = Environment(loader=FileSystemLoader(list(search_path)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)
            env.tests["present"] = _present
            env.filters["label"] = lambda value, names: names.get(value, value) if _present(value) else ""
            env.filters["qr_svg"] = qr_svg
            self._envs[search_path] = env
        return env

    def status_url(self, case_code: str) -> str | None:
        """The public status page of a case, or None when no public address is known."""
        base = self.public_base_url() if callable(self.public_base_url) else self.public_base_url
        return status_url(base, case_code) if base else None

    def center_name(self, jurisdiction_code: str) -> str | None:
        """The issuing center of a jurisdiction: the longest configured code prefix wins."""
        matches = [code for code in self.center_names if jurisdiction_code.startswith(code)]
        return self.center_names[max(matches, key=len)] if matches else None


def _present(value: Any) -> bool:
    return value is not None and not isinstance(value, Undefined) and str(value).strip() != ""


# -- issuing -------------------------------------------------------------------------------------

def generate_documents(session: Session, case: Case, bundle, workflow, now: datetime,
                       renderer: DocumentRenderer, category_name: str) -> list[CaseDocument]:
    """Issue the documents declared by elements of `workflow` that have happened and are not issued yet.

    An element has happened when its task is COMPLETED, or, for a timer event, READY (fired but not
    yet run on). Each (task, type) is issued once: the existing pairs are read in one query, and
    the unique index on case_document catches a concurrent writer. Returns the new rows, added to
    the session and flushed (they have ids), not committed. Call it after the human-task projection,
    so the next tasks and their due times are known to the transfer order.
    """
    declared = list(_declared_documents(workflow))
    if not declared:
        return []
    issued = {(task_id, doc_type) for task_id, doc_type in session.execute(
        select(CaseDocument.task_id, CaseDocument.doc_type).where(CaseDocument.case_id == case.id))}
    pending = [(task, doc_type) for task, doc_type in declared if (str(task.id), doc_type) not in issued]
    if not pending:
        return []
    tasks = _CaseTasks.load(session, case, now)
    documents = []
    for task, doc_type in pending:
        if doc_type not in DOCUMENT_TYPES:
            log.warning("case %s: element %s declares unknown document type %r; not issued",
                        case.code, task.task_spec.bpmn_id, doc_type)
            continue
        context = _task_context(case, bundle, task, tasks, now)
        documents.append(_issue(session, case, doc_type, now, renderer, category_name, context,
                                element_id=task.task_spec.bpmn_id, task_id=str(task.id)))
    session.flush()
    return documents


def issue_document(session: Session, case: Case, doc_type: str, data: Mapping[str, Any], now: datetime,
                   renderer: DocumentRenderer, category_name: str, element_id: str | None = None,
                   task_id: str | None = None) -> CaseDocument:
    """Issue one document the engine decides on outside BPMN, e.g. a 延期告知书 when an extension
    is approved. `data` holds what the document is about and is shown as `details` (for the
    延期告知书: task_name, extension, reason, new_due, approved_by); the case data comes from `case.data`.
    """
    if doc_type not in DOCUMENT_TYPES:
        raise ValueError(f"unknown document type {doc_type!r}; use one of {', '.join(DOCUMENT_TYPES)}")
    tasks = _CaseTasks.load(session, case, now)
    context = {
        "data": _masked(case.data or {}),
        "details": _masked(dict(data)),
        "element_id": element_id,
        "element_name": data.get("task_name") or element_id or "",
        "open_tasks": tasks.open_tasks(exclude=task_id),
        **tasks.transfer,
    }
    document = _issue(session, case, doc_type, now, renderer, category_name, context,
                      element_id=element_id, task_id=task_id)
    session.flush()
    return document


def case_documents(session: Session, case: Case) -> list[CaseDocument]:
    """The documents of a case in the order they were issued."""
    return list(session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)
                                .order_by(CaseDocument.created_at, CaseDocument.id)))


def _issue(session, case, doc_type, now, renderer, category_name, context, *, element_id, task_id) -> CaseDocument:
    kind = DOCUMENT_TYPES[doc_type]
    year = now.astimezone(SHANGHAI).year
    # The center handling the case issues the document: its number series and its seal.
    issuer = case.handling_jurisdiction_code or case.jurisdiction_code
    if doc_type == "transfer_order" and context.get("transfer_from_code"):
        issuer = context["transfer_from_code"]  # the center handing the case on issues its 转送交办单
    sequence = next_number(session, f"{issuer}:{doc_type}", year)
    number = f"{issuer}-{year}-{kind.prefix}{sequence:05d}"
    place = session.get(Jurisdiction, issuer)
    center = (place.center_name if place is not None else None) or renderer.center_name(issuer)
    context = json_copy({
        **context,
        "doc_type": doc_type,
        "document_title": kind.title,
        "number": number,
        "issued_date": _cn_date(now),
        "issued_at": _cn_time(now),
        "issuer": center or "＿＿＿＿＿＿综治中心",
        "status_url": renderer.status_url(case.code),  # 扫码查询进度; stored, so the notice stays as issued
        "case": {
            "code": case.code,
            "title": mask_text(case.title or ""),
            "category_name": category_name,
            "jurisdiction_code": case.jurisdiction_code,
            "registered_date": _cn_date(case.created_at) if case.created_at else "",
        },
    }, lenient=True)
    document = CaseDocument(case_id=case.id, doc_type=doc_type, number=number, title=kind.title,
                            html=renderer.render(doc_type, context, ancestors(
                                session, case.handling_jurisdiction_code or case.jurisdiction_code)),
                            data=context, element_id=element_id,
                            task_id=task_id, created_at=now)
    session.add(document)
    return document


def _declared_documents(workflow) -> Iterable[tuple[Any, str]]:
    """(task, document type) for every task that has happened and declares documents, oldest first."""
    seen = set()
    happened = []
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.tasks.values():
            if task.id in seen:
                continue
            seen.add(task.id)
            properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}
            if properties.get(PROPERTY) and _has_happened(task):
                happened.append(task)
    happened.sort(key=lambda task: task.last_state_change)
    for task in happened:
        for doc_type in document_types_of(task.task_spec.extensions["properties"][PROPERTY]):
            yield task, doc_type


def _has_happened(task) -> bool:
    if task.state == TaskState.COMPLETED:
        return True
    # A timer that fired is READY until the engine runs on past it.
    return task.state == TaskState.READY and isinstance(getattr(task.task_spec, "event_definition", None),
                                                        TimerEventDefinition)


def _task_context(case: Case, bundle, task, tasks: "_CaseTasks", now: datetime) -> dict[str, Any]:
    """What a document issued for `task` may say: the case data as of that task and the tasks around it."""
    element_id = task.task_spec.bpmn_id
    own_row = tasks.row(str(task.id))
    ended = own_row.completed_at if own_row is not None and own_row.completed_at else now
    timer = bundle.timers.get(element_id) if bundle is not None else None
    return {
        "data": _masked(task.data),
        "details": {},
        "element_id": element_id,
        "element_name": task.task_spec.bpmn_name or element_id,
        "authority": tasks.authority(own_row),
        "next_task": tasks.next_task(exclude=str(task.id), since=ended),
        "open_tasks": tasks.open_tasks(exclude=str(task.id)),
        "timer_kind": timer.kind if timer else None,
        "target_task": tasks.current(timer.target) if timer and timer.target else None,
        **tasks.transfer,
    }


@dataclass
class _CaseTasks:
    """The case's human-task rows (one query) and the names of who completed them."""

    rows: list[HumanTask]
    names: dict[str, str]
    now: datetime
    transfer: dict[str, Any] = field(default_factory=dict)  # transfer_from / transfer_to, see _transfer

    @classmethod
    def load(cls, session: Session, case: Case, now: datetime) -> "_CaseTasks":
        rows = list(session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)))
        users = {row.completed_by for row in rows if row.completed_by}
        names = {username: display for username, display in session.execute(
            select(User.username, User.display_name).where(User.username.in_(users)))} if users else {}
        return cls(rows, names, now, _transfer(session, case, now))

    def row(self, task_id: str) -> HumanTask | None:
        return next((row for row in self.rows if row.id == task_id), None)

    def authority(self, row: HumanTask | None) -> dict[str, str] | None:
        """Who decided: the person who completed the task and their role (交办依据)."""
        if row is None or not row.completed_by or row.completed_by == "system":
            return None
        return {"name": self.names.get(row.completed_by) or row.completed_by,
                "role_name": ROLES.get(row.role, row.role), "task_name": row.name}

    def open_tasks(self, exclude: str | None = None) -> list[dict[str, Any]]:
        ready = [row for row in self.rows if row.state == "ready" and row.id != exclude]
        return [self._describe(row) for row in sorted(ready, key=_by_due)]

    def next_task(self, exclude: str, since: datetime) -> dict[str, Any] | None:
        """The task that became ready when (or after) this one ended, earliest due first."""
        later = [row for row in self.rows
                 if row.state == "ready" and row.id != exclude and row.created_at >= since]
        return self._describe(min(later, key=_by_due)) if later else None

    def current(self, element_id: str) -> dict[str, Any] | None:
        """The ready task at `element_id` (what a 工作提示函 is about), else its latest row."""
        rows = [row for row in self.rows if row.element_id == element_id]
        ready = [row for row in rows if row.state == "ready"]
        chosen = min(ready, key=_by_due) if ready else max(rows, key=lambda r: r.created_at, default=None)
        return self._describe(chosen) if chosen is not None else None

    def _describe(self, row: HumanTask) -> dict[str, Any]:
        overdue = row.overdue_at is not None or (row.due_at is not None and self.now > row.due_at)
        return {"name": row.name, "element_id": row.element_id, "role": row.role,
                "role_name": ROLES.get(row.role, row.role), "deadline": _deadline_text(row.deadline),
                "due": _cn_time(row.due_at) if row.due_at else "", "overdue": overdue and row.paused_at is None,
                "paused": row.paused_at is not None}


def _transfer(session: Session, case: Case, now: datetime) -> dict[str, Any]:
    """From which center to which the case goes (转出 / 接收), for a 转送交办单: the move engine/levels.py
    recorded in this run (`case_transferred` at `now`), else the center handling the case, both ways."""
    event = session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "case_transferred", CaseEvent.at == now)
        .order_by(CaseEvent.id.desc()).limit(1)).first()
    if event is not None:
        return {"transfer_from": event.data.get("from_center"), "transfer_to": event.data.get("to_center"),
                "transfer_from_code": event.data.get("from"), "transfer_direction": event.data.get("direction")}
    code = case.handling_jurisdiction_code or case.jurisdiction_code
    place = session.get(Jurisdiction, code) if code else None
    name = (place.center_name or place.name) if place is not None else None
    return {"transfer_from": name, "transfer_to": name, "transfer_from_code": code, "transfer_direction": None}


def _deadline_text(deadline: str | None) -> str:
    """"2 工作日" as a sentence says it: 2个工作日; "30 日" → 30日."""
    amount, _, unit = (deadline or "").partition(" ")
    if not unit:
        return deadline or ""
    return f"{amount}个工作日" if unit == "工作日" else f"{amount}{unit}"


def _by_due(row: HumanTask):
    return (row.due_at is None, row.due_at or row.created_at, row.created_at)


def _masked(value: Any, key: str = "") -> Any:
    """A JSON-ready copy of case data with ID and phone numbers masked, also inside free text."""
    if isinstance(value, Mapping):
        return {str(k): _masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v, key) for v in value]
    if isinstance(value, datetime):
        return _cn_time(value)
    if isinstance(value, date):
        return _cn_date(value)
    value = mask_field(key, value)
    return mask_text(value) if isinstance(value, str) else value


def _cn_date(moment: datetime | date) -> str:
    """2026年3月2日, in Beijing time."""
    day = moment.astimezone(SHANGHAI).date() if isinstance(moment, datetime) else moment
    return f"{day.year}年{day.month}月{day.day}日"


def _cn_time(moment: datetime) -> str:
    """2026年3月2日 17:30, in Beijing time."""
    local = moment.astimezone(SHANGHAI)
    return f"{_cn_date(local)} {local:%H:%M}"
