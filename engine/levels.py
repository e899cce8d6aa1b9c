"""Where a case is handled, and moving it between levels (小事不出村、大事不出乡、矛盾不上交).

A case is registered at a place (`Case.jurisdiction_code`) and handled by one center at a time
(`Case.handling_jurisdiction_code`):

- At registration it is handled by the registering clerk's own center when that center covers the
  place — a county window registering a village dispute does 受理 and 研判 itself — else by the
  center that handles the place (`registration_center`).
- The process decides the level (`handling_level` in the case data: the routing table, a 分流转办
  form, the `raise_level` script). When the level differs from the level of the center handling the
  case, the case moves to the center at that level — up (上报/升级) along the path of the center
  handling it, down (交办) along the path of the place (`follow_level`, called by the projection
  before new tasks are created, so they are offered at the new center).
- A proposal still waiting for someone to confirm it is not yet in force: while a ready task's form
  asks for `handling_level` (分流转办), the case stays where it is, and moves when that task is done.
- A director may also move a case by hand: `send_down` to a center below (上级交办) and `report_up`
  one level (上报, when the level fails and the process has no way up).

On a move the ready tasks offered at the old center are offered at the new one (claims cleared),
a `case_transferred` event records from and to, and the case gets a 转送交办单 naming both centers
(the one the process declares at that step, else one issued here). Nothing is deleted: the old
center keeps reading the case and its history (actors.case_filter reads where a case was registered
and where it is handled). Without a 行政区划 tree (the handling center is not in the `jurisdiction`
table) cases stay where they were registered, as before the tree existed. When the tree has no
center at the level decided, the case stays and a `case_not_transferred` event says why (once).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.util.task import TaskState

from . import jurisdictions
from .actors import REGISTERING_ROLES, Actor
from .assignment import get_visible_case
from .documents import DocumentRenderer, issue_document
from .errors import EngineError, Forbidden, NotFound
from .events import EventLog
from .models import Case, CaseDocument, CaseEvent, HumanTask, Jurisdiction
from .people import resolve_department
from .task_queues import TaskQueues

if TYPE_CHECKING:
    from .bundle import ProcessBundle
    from .runtime import CaseRuntime, RunContext

LEVEL_FIELD = "handling_level"
DIRECTOR_ROLE = "director"  # 中心主任: sends a case down or reports it up
DIRECTIONS = {"up": "上报", "down": "交办"}
# What a move is called on its 转送交办单 when the process itself declares no document for it.
MOVE_TITLES = {("up", False): "提级调处", ("down", False): "分流交办", ("up", True): "上报", ("down", True): "上级交办"}
TRANSFERRED, NOT_TRANSFERRED, TASK_REQUEUED = "case_transferred", "case_not_transferred", "task_requeued"
UNFINISHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED


class LevelError(EngineError):
    """A move between levels that is not possible as asked (the message says why)."""


@dataclass(frozen=True)
class Move:
    """One move of a case from the center handling it to another."""

    from_code: str
    to_code: str
    direction: str  # up / down
    level: str
    reason: str
    by_hand: bool  # send_down / report_up rather than the process's own decision


# -- where a case starts ----------------------------------------------------------------------------

def registration_center(session: Session, actor: Actor, place_code: str) -> str:
    """The center that handles a case `actor` registers at `place_code` first.

    The clerk's own center when it covers the place (the clerk grant with the longest code covering
    it), so a county window registering a village dispute keeps it for 受理 and 研判; otherwise the
    center that handles the place (jurisdictions.handling_center).
    """
    covering = [g.jurisdiction_code for g in actor.grants
                if g.role in REGISTERING_ROLES and g.jurisdiction_code and g.covers(place_code)]
    if covering:
        return jurisdictions.handling_center(session, max(covering, key=len))
    return jurisdictions.handling_center(session, place_code)


# -- following the process's decision ---------------------------------------------------------------

def follow_level(session: Session, case: Case, bundle: "ProcessBundle", workflow, ready: list,
                 data: dict[str, Any], now: datetime, log: EventLog) -> Move | None:
    """Move the case to the center at the level the process decided, if it is not there yet.

    Called by the projection after the engine ran and before new human tasks are created. `ready`
    are the workflow's ready user tasks, `data` the case data as the main line sees it. Returns the
    move made (the projection then makes sure a 转送交办单 is issued), or None.
    """
    level = data.get(LEVEL_FIELD)
    if not isinstance(level, str) or level not in jurisdictions.HANDLING_LEVELS or workflow.is_completed():
        return None
    if _awaiting_level_decision(bundle, ready):
        return None
    current = session.get(Jurisdiction, case.handling_jurisdiction_code)
    if current is None or current.level == level or current.level not in jurisdictions.LEVELS:
        return None
    direction = "up" if _rank(level) > _rank(current.level) else "down"
    previous = case.handling_level  # the level the process had decided before this run
    if direction == "down" and previous in jurisdictions.LEVELS and _rank(level) > _rank(previous):
        # The process escalated, but the case is already handled above the new level (the lower
        # level it was routed to had no center): escalating never sends a case down.
        return None
    # Up: the centers above the one handling the case; down: the centers on the way to the place.
    target = jurisdictions.center_at_level(session, current.code if direction == "up" else case.jurisdiction_code,
                                           level)
    if target is None or target == current.code:
        _note_not_transferred(session, case, current, level, direction, log)
        return None
    return move_case(session, case, bundle, ready, target, log, "system", direction=direction, level=level)


def _awaiting_level_decision(bundle: "ProcessBundle", ready: list) -> bool:
    """A ready task whose form asks for the level (分流转办): the routing only proposed it so far."""
    for task in ready:
        meta = bundle.tasks.get(task.task_spec.bpmn_id)
        if meta is not None and meta.form and LEVEL_FIELD in bundle.form(meta.form).schema.get("properties", {}):
            return True
    return False


def _rank(level: str) -> int:
    """Higher for higher levels: county > township > village."""
    return len(jurisdictions.LEVELS) - jurisdictions.LEVELS.index(level)


def _note_not_transferred(session: Session, case: Case, current: Jurisdiction, level: str, direction: str,
                          log: EventLog) -> None:
    """Say once why the case stays: the tree has no center at the level decided."""
    last = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                   CaseEvent.kind.in_((TRANSFERRED, NOT_TRANSFERRED)))
                           .order_by(CaseEvent.id.desc()).limit(1)).first()
    if last is not None and last.kind == NOT_TRANSFERRED and last.data.get("level") == level \
            and last.data.get("at") == current.code:
        return
    where = "其上" if direction == "up" else "登记地所在路径上"
    level_name = jurisdictions.LEVEL_NAMES.get(level, level)
    log.add("system", NOT_TRANSFERRED,
            f"未能{DIRECTIONS[direction]}：{where}没有{level_name}级综治中心，仍由{_center_label(current)}办理",
            data={"level": level, "at": current.code, "direction": direction,
                  "reason": f"no center at level {level} on the path of {case.jurisdiction_code}"})


# -- moving ---------------------------------------------------------------------------------------------

def move_case(session: Session, case: Case, bundle: "ProcessBundle", ready: Iterable, target_code: str,
              log: EventLog, actor_name: str, *, direction: str, level: str, reason: str = "",
              by_hand: bool = False) -> Move:
    """Hand case `case` to the center at `target_code`: the ready tasks offered at the old center are
    offered at the new one (claims cleared), the department is looked up again at the new center,
    and a `case_transferred` event records the move. `ready` are the workflow's ready user tasks.
    Does not issue the 转送交办单 (see `issue_transfer_order`) and does not commit.
    """
    source = case.handling_jurisdiction_code
    case.handling_jurisdiction_code = target_code
    refresh_department(session, case)
    centers = {row.code: row for row in session.scalars(
        select(Jurisdiction).where(Jurisdiction.code.in_([source, target_code])))}
    from_label, to_label = _center_label(centers.get(source), source), _center_label(centers.get(target_code), target_code)
    queues = TaskQueues(session, case)
    tasks = {str(task.id): task for task in ready}
    requeued = []
    rows = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready",
                                                   HumanTask.jurisdiction_code.in_([source, ""]))
                           .order_by(HumanTask.created_at, HumanTask.id))
    for row in rows:
        task = tasks.get(row.id)
        meta = bundle.tasks.get(row.element_id)
        if task is None or meta is None:
            continue  # it ended in this run; the projection closes its row
        queue = queues.queue_for(meta, task.data)
        previous = row.claimed_by
        row.jurisdiction_code, row.department_id = queue.jurisdiction_code, queue.department_id
        row.claimed_by = row.claimed_at = row.delegated_from = None
        log.add(actor_name, TASK_REQUEUED, f"转至{to_label}：{row.name}" + (f"（原认领人 {previous}）" if previous else ""),
                element_id=row.element_id, task_id=row.id,
                data={"from": source, "to": queue.jurisdiction_code, "department_id": queue.department_id,
                      "previous_claimant": previous})
        requeued.append(row.id)
    verb = DIRECTIONS[direction]
    log.add(actor_name, TRANSFERRED, f"{verb}：{from_label} → {to_label}" + (f"（{reason}）" if reason else ""),
            data={"from": source, "from_name": _name(centers.get(source), source), "from_center": from_label,
                  "to": target_code, "to_name": _name(centers.get(target_code), target_code), "to_center": to_label,
                  "direction": direction, "level": level, "reason": reason, "by_hand": by_hand,
                  "requeued": requeued})
    return Move(source, target_code, direction, level, reason, by_hand)


def refresh_department(session: Session, case: Case) -> None:
    """The case's department as stationed at its new center (the routing names it; ids differ per center)."""
    if not case.department:
        case.department_id = None
        return
    centers = [row.code for row in jurisdictions.path(session, case.handling_jurisdiction_code)]
    department = resolve_department(session, centers or [case.handling_jurisdiction_code], case.department)
    case.department_id = department.id if department else None


def _center_label(row: Jurisdiction | None, code: str = "") -> str:
    if row is None:
        return code
    return row.center_name or row.name


def _name(row: Jurisdiction | None, code: str) -> str:
    return row.name if row is not None else code


def issue_missing_transfer_order(session: Session, case: Case, move: Move | None, documents: list[CaseDocument],
                                 now: datetime, renderer: DocumentRenderer | None, category_name: str,
                                 log: EventLog) -> CaseDocument | None:
    """After a move in an engine run, issue a 转送交办单 unless the process declared one in that run."""
    if move is None or renderer is None or any(d.doc_type == "transfer_order" for d in documents):
        return None
    return issue_transfer_order(session, case, move, now, renderer, category_name, log)


def issue_transfer_order(session: Session, case: Case, move: Move, now: datetime, renderer: DocumentRenderer,
                         category_name: str, log: EventLog, authority: dict[str, str] | None = None) -> CaseDocument:
    """Issue the 转送交办单 of `move` (its context names both centers, see documents._CaseTasks)."""
    title = MOVE_TITLES[(move.direction, move.by_hand)]
    details = {"task_name": title, "reason": move.reason, "direction": move.direction, "level": move.level}
    if authority:
        details["authority"] = authority
    document = issue_document(session, case, "transfer_order", details, now, renderer, category_name)
    log.add("system", "document_issued", f"出具{document.title}：{document.number}",
            data={"document_id": document.id, "doc_type": document.doc_type, "number": document.number})
    return document


def set_case_value(workflow, key: str, value: Any) -> None:
    """Write `key` into the data of every unfinished task (main line and called processes), so what
    the process reads next — gateways, scripts, data copied out of a called process — agrees."""
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.get_tasks(state=UNFINISHED):
            task.data[key] = value
    # With no task ready the case data is read from the last task that ran (projection.case_data).
    if workflow.last_task is not None:
        workflow.last_task.data[key] = value


# -- moving by hand: 上级交办 and 上报 ----------------------------------------------------------------

def centers_below(session: Session, case: Case) -> list[Jurisdiction]:
    """Centers a case may be sent down to: every center under the one handling it, at a handling level."""
    return [row for row in jurisdictions.subtree(session, case.handling_jurisdiction_code)
            if row.code != case.handling_jurisdiction_code and row.center_name
            and row.level in jurisdictions.HANDLING_LEVELS]


def center_above(session: Session, case: Case) -> Jurisdiction | None:
    """The center a case is reported up to: the next one up from the center handling it."""
    code = jurisdictions.parent_center(session, case.handling_jurisdiction_code)
    row = session.get(Jurisdiction, code) if code else None
    return row if row is not None and row.level in jurisdictions.HANDLING_LEVELS else None


def may_move(actor: Actor, case: Case) -> bool:
    """A director over the center handling an open case may send it down or report it up."""
    return case.status == "open" and actor.can_take(DIRECTOR_ROLE, case.handling_jurisdiction_code)


def send_down(session: Session, runtime: "CaseRuntime", case_id: int, target_code: str, reason: str,
              actor: Actor) -> Case:
    """上级交办: a director of the center handling case `case_id` sends it to center `target_code` below.

    Raises NotFound (the case is not visible to the actor), Forbidden (not a director there),
    LevelError (closed case, no reason, or the target is not a center below). Commits.
    """
    reason = _require_reason(reason, "交办")

    def send(workflow, ctx: "RunContext") -> None:
        _check_may_move(actor, ctx.case, "交办")
        target = ctx.session.get(Jurisdiction, target_code)
        if target is None or target.code not in {row.code for row in centers_below(ctx.session, ctx.case)}:
            raise LevelError(f"{target_code} is not a center below {ctx.case.handling_jurisdiction_code}; "
                             "choose a 综治中心（站） under the center handling the case")
        _move_by_hand(runtime, workflow, ctx, target, "down", reason)

    return _act(session, runtime, case_id, actor, send)


def report_up(session: Session, runtime: "CaseRuntime", case_id: int, reason: str, actor: Actor) -> Case:
    """上报: a director of the center handling case `case_id` hands it to the next center up, when
    the level cannot resolve it and the process offers no way up. Errors as for `send_down`."""
    reason = _require_reason(reason, "上报")

    def report(workflow, ctx: "RunContext") -> None:
        _check_may_move(actor, ctx.case, "上报")
        target = center_above(ctx.session, ctx.case)
        if target is None:
            raise LevelError(f"there is no center above {ctx.case.handling_jurisdiction_code} to report case "
                             f"{ctx.case.code} to")
        _move_by_hand(runtime, workflow, ctx, target, "up", reason)

    return _act(session, runtime, case_id, actor, report)


def _act(session: Session, runtime: "CaseRuntime", case_id: int, actor: Actor, action) -> Case:
    if get_visible_case(session, actor, case_id) is None:
        raise NotFound(f"case {case_id} does not exist")
    return runtime.act(session, case_id, actor, action)


def _require_reason(reason: str, verb: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise LevelError(f"{verb} needs a reason (说明{verb}理由)")
    if len(reason) > 500:
        raise LevelError(f"the reason for {verb} is longer than 500 characters")
    return reason


def _check_may_move(actor: Actor, case: Case, verb: str) -> None:
    if case.status != "open":
        raise LevelError(f"case {case.code} is {case.status}; only an open case can be moved ({verb})")
    if not actor.can_take(DIRECTOR_ROLE, case.handling_jurisdiction_code):
        raise Forbidden(f"{verb} needs the director role (中心主任) over {case.handling_jurisdiction_code}, "
                        "the center handling the case")


def _move_by_hand(runtime: "CaseRuntime", workflow, ctx: "RunContext", target: Jurisdiction, direction: str,
                  reason: str) -> None:
    # The process must agree on the level, or it would move the case back (follow_level) and a later
    # raise_level would start from the wrong one.
    set_case_value(workflow, LEVEL_FIELD, target.level)
    ctx.case.data = {**(ctx.case.data or {}), LEVEL_FIELD: target.level}  # what the 转送交办单 shows
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    move = move_case(ctx.session, ctx.case, ctx.bundle, ready, target.code, ctx.log, ctx.actor.username,
                     direction=direction, level=target.level, reason=reason, by_hand=True)
    category = runtime.registry.categories.get(ctx.case.category_code)
    authority = {"name": ctx.actor.display_name or ctx.actor.username, "role_name": "中心主任"}
    issue_transfer_order(ctx.session, ctx.case, move, ctx.now, runtime.renderer,
                         category.name if category else ctx.case.category_code, ctx.log, authority)


def level_change_word(old: str | None, new: str | None) -> str:
    """升级 or 下交, for the `level_changed` event of a change from level `old` to `new`."""
    if old in jurisdictions.LEVELS and new in jurisdictions.LEVELS and _rank(new) < _rank(old):
        return "下交"
    return "升级"
