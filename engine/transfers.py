"""Cross-department transfer (转办): a case moves from one department of its center to another.

中心吹哨、部门报到: the department the routing named may find the dispute is not theirs. The liaison of
the case's department (or a director) asks for a transfer to another department of the center
handling the case, with a reason; the director of that center (中心主任, the lead) signs it off or
not. The sign-off is due within a limit on the working-day calendar — the locality setting
`transfer_limit` (九原区: 跨部门转办 2个工作日内完成), 2 工作日 by default — and a request still undecided past it is flagged 超期 once by the timer
sweep (`mark_overdue_transfers`, event `transfer_overdue`).

Approval moves `Case.department` / `department_id` (and the case data's `department`, so the next
liaison tasks go to the new department), offers the ready liaison tasks of the old department to
the new one (claims cleared), and issues a 转送交办单. Every step is in the case's event log.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .actors import Actor
from .assignment import get_visible_case
from .calendar import SHANGHAI, Duration, Unit
from .errors import ConflictError, EngineError, Forbidden, NotFound
from .events import EventLog
from .levels import TASK_REQUEUED, set_case_value
from .documents import issue_document
from .models import Case, Department, DepartmentTransfer, HumanTask
from .task_meta import DEFAULT_WARN_SHARE
from .variant_lookup import ancestors

if TYPE_CHECKING:
    from .runtime import CaseRuntime, RunContext

log = logging.getLogger(__name__)

DEFAULT_LIMIT = Duration(2, Unit.WORKDAY)
LIAISON, DIRECTOR = "liaison", "director"
STATE_NAMES = {"pending": "待签批", "approved": "已批准", "rejected": "不予批准"}
DEPARTMENT_FIELD = "department"


class TransferError(EngineError):
    """A transfer that cannot be requested or decided as asked (the message says why)."""


def transfer_limit(session: Session | None, jurisdiction_code: str,
                   limits: Mapping[str, str] | None = None, variants=None) -> Duration:
    """The sign-off limit in force at a center, nearest first along its chain: the variant setting
    `transfer_limit` (variant.toml, e.g. 九原区 "2 工作日"), else DEFAULT_LIMIT (2 工作日).

    `limits` (jurisdiction code → "3 工作日"; "" for everywhere) lets operations or a test override
    the files: at the same level an entry there wins over the variant's setting.
    """
    for code in ancestors(session, jurisdiction_code):
        if limits and code in limits:
            return Duration.parse(limits[code])
        variant = variants.get(code) if variants is not None else None
        if variant is not None and "transfer_limit" in variant.settings:
            return variant.settings["transfer_limit"]
    return DEFAULT_LIMIT


def deadline_state(transfer: DepartmentTransfer, now: datetime) -> str:
    """正常 / 临期 / 超期 of a pending transfer at `now` (a decided one: its state's name)."""
    if transfer.state != "pending":
        return STATE_NAMES.get(transfer.state, transfer.state)
    if transfer.overdue_at is not None or now > transfer.due_at:
        return "超期"
    if transfer.warn_at is not None and now > transfer.warn_at:
        return "临期"
    return "正常"


@dataclass(frozen=True)
class TransferRow:
    """A transfer with its case and the departments' names, for lists."""

    transfer: DepartmentTransfer
    case: Case
    from_name: str
    to_name: str


class DepartmentTransfers:
    """Requesting and deciding transfers; each call commits or changes nothing."""

    def __init__(self, runtime: "CaseRuntime", limits: Mapping[str, str] | None = None):
        self.runtime = runtime
        self.limits = dict(limits or {})

    # -- what an actor may do ------------------------------------------------------------------------

    def departments(self, session: Session, case: Case) -> list[Department]:
        """Departments the case may be transferred to: active ones of its center, but its own."""
        return list(session.scalars(select(Department).where(
            Department.jurisdiction_code == case.handling_jurisdiction_code, Department.active.is_(True),
            Department.id != (case.department_id or -1)).order_by(Department.code)))

    @staticmethod
    def may_request(actor: Actor, case: Case) -> bool:
        """The liaison of the case's department at its center, or a director over that center."""
        if case.status != "open":
            return False
        return (actor.can_take(DIRECTOR, case.handling_jurisdiction_code)
                or (case.department_id is not None
                    and actor.can_take(LIAISON, case.handling_jurisdiction_code, case.department_id)))

    @staticmethod
    def may_decide(actor: Actor, case: Case) -> bool:
        """The director (中心主任) over the center handling the case signs transfers off."""
        return actor.can_take(DIRECTOR, case.handling_jurisdiction_code)

    # -- commands --------------------------------------------------------------------------------

    def request(self, session: Session, case_id: int, to_department_id: int, reason: str,
                actor: Actor) -> DepartmentTransfer:
        """Ask for case `case_id` to be transferred to department `to_department_id` of its center.

        Raises NotFound (case not visible), Forbidden (neither its department's liaison nor a
        director), TransferError (closed case, no reason, unknown department, one already pending).
        """
        if get_visible_case(session, actor, case_id) is None:
            raise NotFound(f"case {case_id} does not exist")
        try:
            # The row lock makes "one pending transfer per case" hold against a concurrent request.
            case = session.execute(select(Case).where(Case.id == case_id).with_for_update()
                                   .execution_options(populate_existing=True)).scalar_one()
            if case.status != "open":
                raise TransferError(f"case {case.code} is {case.status}; only an open case can be transferred")
            if not self.may_request(actor, case):
                raise Forbidden("转办 is requested by the liaison (部门联络员) of the case's department or a "
                                f"director (中心主任) over {case.handling_jurisdiction_code}")
            reason = _require_text(reason, "转办 needs a reason (转办理由)")
            target = next((d for d in self.departments(session, case) if d.id == to_department_id), None)
            if target is None:
                raise TransferError(f"department {to_department_id} is not another active department of "
                                    f"{case.handling_jurisdiction_code}, the center handling case {case.code}")
            pending = session.scalar(select(DepartmentTransfer.id).where(
                DepartmentTransfer.case_id == case.id, DepartmentTransfer.state == "pending"))
            if pending is not None:
                raise TransferError(f"a transfer of case {case.code} is already waiting for the director's sign-off")
            now = self.runtime.clock.now()
            limit = transfer_limit(session, case.handling_jurisdiction_code, self.limits,
                                       self.runtime.registry.variants)
            calendar = self.runtime.calendar_loader(session, case.handling_jurisdiction_code)
            due, warn = calendar.add(now, limit), calendar.warning(now, limit, DEFAULT_WARN_SHARE)
            transfer = DepartmentTransfer(
                case_id=case.id, from_department_id=case.department_id, to_department_id=target.id, reason=reason,
                state="pending", time_limit=str(limit), requested_by=actor.username, requested_at=now,
                warn_at=warn.due, due_at=due.due)
            session.add(transfer)
            session.flush()
            from_name = _department_name(session, case.department_id, case.department)
            EventLog(session, case.id, now).add(
                actor.username, "transfer_requested",
                f"申请转办：{from_name} → {target.name}（{reason}），待中心主任签批，时限{limit.amount}个{limit.unit.value}",
                data={"transfer_id": transfer.id, "from_department_id": case.department_id,
                      "to_department_id": target.id, "reason": reason, "limit": str(limit),
                      "due_at": due.due.isoformat()})
            session.commit()
        except Exception:
            session.rollback()
            raise
        return transfer

    def decide(self, session: Session, transfer_id: int, approve: bool, note: str,
               actor: Actor) -> DepartmentTransfer:
        """The director of the handling center approves or rejects pending transfer `transfer_id`.

        Approval moves the case's department, re-offers its ready liaison tasks to the new
        department and issues a 转送交办单. Raises NotFound, Forbidden, ConflictError (already
        decided), TransferError (the case has moved to another center since the request).
        """
        transfer = session.get(DepartmentTransfer, transfer_id)
        if transfer is None or get_visible_case(session, actor, transfer.case_id) is None:
            raise NotFound(f"transfer {transfer_id} does not exist")
        note = (note or "").strip()[:500]

        def decide(workflow, ctx: "RunContext") -> None:
            row = ctx.session.execute(select(DepartmentTransfer).where(DepartmentTransfer.id == transfer_id)
                                      .execution_options(populate_existing=True)).scalar_one()
            if not self.may_decide(actor, ctx.case):
                raise Forbidden("signing off a transfer needs the director role (中心主任) over "
                                f"{ctx.case.handling_jurisdiction_code}, the center handling the case")
            if row.state != "pending":
                raise ConflictError(f"transfer {transfer_id} was already {STATE_NAMES.get(row.state, row.state)}")
            source = ctx.session.get(Department, row.from_department_id) if row.from_department_id else None
            target = ctx.session.get(Department, row.to_department_id)
            from_name, to_name = (source.name if source else ctx.case.department or "—"), target.name
            row.state = "approved" if approve else "rejected"
            row.decided_by, row.decided_at, row.note = actor.username, ctx.now, note or None
            data = {"transfer_id": row.id, "from_department_id": row.from_department_id,
                    "to_department_id": row.to_department_id, "note": note,
                    "late": ctx.now > row.due_at}
            if not approve:
                ctx.log.add(actor.username, "transfer_rejected", f"不予转办：{from_name} → {to_name}"
                            + (f"（{note}）" if note else ""), data=data)
                return
            if ctx.case.status != "open":
                raise TransferError(f"case {ctx.case.code} is {ctx.case.status}; it can no longer be transferred")
            if target.jurisdiction_code != ctx.case.handling_jurisdiction_code or not target.active:
                raise TransferError(f"{target.name} is no longer a department of the center handling case "
                                    f"{ctx.case.code} (it moved to {ctx.case.handling_jurisdiction_code}); "
                                    "reject this transfer and ask again there")
            set_case_value(workflow, DEPARTMENT_FIELD, target.name)
            ctx.case.department, ctx.case.department_id = target.name, target.id
            ctx.case.data = {**(ctx.case.data or {}), DEPARTMENT_FIELD: target.name}  # for the 转送交办单
            data["requeued"] = _requeue_liaison_tasks(ctx, row.from_department_id, target, actor)
            ctx.log.add(actor.username, "transfer_approved", f"批准转办：{from_name} → {to_name}"
                        + (f"（{note}）" if note else ""), data=data)
            self._issue_order(ctx, row, from_name, to_name)

        self.runtime.act(session, transfer.case_id, actor, decide)
        return session.get(DepartmentTransfer, transfer_id)

    def _issue_order(self, ctx: "RunContext", row: DepartmentTransfer, from_name: str, to_name: str) -> None:
        category = self.runtime.registry.categories.get(ctx.case.category_code)
        document = issue_document(
            ctx.session, ctx.case, "transfer_order",
            {"task_name": "跨部门转办", "reason": row.reason, "from_department": from_name,
             "to_department": to_name,
             "authority": {"name": ctx.actor.display_name or ctx.actor.username, "role_name": "中心主任"}},
            ctx.now, self.runtime.renderer, category.name if category else ctx.case.category_code)
        ctx.log.add("system", "document_issued", f"出具{document.title}：{document.number}",
                    data={"document_id": document.id, "doc_type": document.doc_type, "number": document.number})

    # -- reading ----------------------------------------------------------------------------------------

    def pending(self, session: Session, actor: Actor) -> list[TransferRow]:
        """Transfers waiting for this director's sign-off, earliest due first."""
        rows = session.execute(
            select(DepartmentTransfer, Case).join(Case, Case.id == DepartmentTransfer.case_id)
            .where(DepartmentTransfer.state == "pending", actor.case_filter())
            .order_by(DepartmentTransfer.due_at, DepartmentTransfer.id)).all()
        return _with_names(session, [(t, c) for t, c in rows if self.may_decide(actor, c)])

    def of_case(self, session: Session, case: Case) -> list[TransferRow]:
        """Every transfer of `case`, oldest first."""
        transfers = session.scalars(select(DepartmentTransfer).where(DepartmentTransfer.case_id == case.id)
                                    .order_by(DepartmentTransfer.requested_at, DepartmentTransfer.id))
        return _with_names(session, [(t, case) for t in transfers])


def _requeue_liaison_tasks(ctx: "RunContext", from_department_id: int | None, target: Department,
                           actor: Actor) -> list[str]:
    rows = ctx.session.scalars(select(HumanTask).where(
        HumanTask.case_id == ctx.case.id, HumanTask.state == "ready", HumanTask.role == LIAISON,
        HumanTask.department_id.is_(None) if from_department_id is None
        else HumanTask.department_id == from_department_id))
    moved = []
    for row in rows:
        previous = row.claimed_by
        row.department_id = target.id
        row.claimed_by = row.claimed_at = row.delegated_from = None
        ctx.log.add(actor.username, TASK_REQUEUED, f"转至{target.name}：{row.name}"
                    + (f"（原认领人 {previous}）" if previous else ""), element_id=row.element_id, task_id=row.id,
                    data={"from_department_id": from_department_id, "to_department_id": target.id,
                          "previous_claimant": previous})
        moved.append(row.id)
    return moved


def mark_overdue_transfers(session_factory: Callable[[], Session], now: datetime, batch: int = 500) -> list[int]:
    """Flag every pending transfer whose limit has passed, once (event `transfer_overdue`). Called by
    the timer sweep; a conditional update makes two sweepers flag a transfer only once."""
    with session_factory() as session:
        due = session.scalars(select(DepartmentTransfer.id).where(
            DepartmentTransfer.state == "pending", DepartmentTransfer.overdue_at.is_(None),
            DepartmentTransfer.due_at < now).order_by(DepartmentTransfer.due_at).limit(batch)).all()
    flagged = []
    for transfer_id in due:
        with session_factory() as session:
            try:
                result = session.execute(
                    update(DepartmentTransfer).where(DepartmentTransfer.id == transfer_id,
                                                     DepartmentTransfer.state == "pending",
                                                     DepartmentTransfer.overdue_at.is_(None))
                    .values(overdue_at=now).execution_options(synchronize_session=False))
                if result.rowcount != 1:
                    session.rollback()
                    continue
                transfer = session.get(DepartmentTransfer, transfer_id)
                case = session.get(Case, transfer.case_id)
                from_name = _department_name(session, transfer.from_department_id, case.department)
                to_name = _department_name(session, transfer.to_department_id, None)
                due_text = f"{transfer.due_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
                EventLog(session, transfer.case_id, now).add(
                    "system", "transfer_overdue", f"转办超期未签批：{from_name} → {to_name}（应于 {due_text} 前签批）",
                    data={"transfer_id": transfer.id, "due_at": transfer.due_at.isoformat()})
                session.commit()
                flagged.append(transfer_id)
            except Exception:  # one broken row must not stop the sweep
                session.rollback()
                log.exception("transfer sweep: transfer %s failed", transfer_id)
    return flagged


def _with_names(session: Session, pairs: list[tuple[DepartmentTransfer, Case]]) -> list[TransferRow]:
    ids = {i for t, _ in pairs for i in (t.from_department_id, t.to_department_id) if i is not None}
    names = dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(ids))).all()) if ids else {}
    return [TransferRow(t, c, names.get(t.from_department_id) or c.department or "—",
                        names.get(t.to_department_id, "—")) for t, c in pairs]


def _department_name(session: Session, department_id: int | None, fallback: str | None) -> str:
    department = session.get(Department, department_id) if department_id is not None else None
    return department.name if department is not None else (fallback or "—")


def _require_text(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise TransferError(message)
    if len(value) > 500:
        raise TransferError("the reason is longer than 500 characters")
    return value
