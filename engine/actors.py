"""Who is acting, what they may see and which tasks they may take.

A user holds grants: one role over one jurisdiction (and, for a 部门联络员, one department). Reading
follows the tree: a grant covers its jurisdiction and everything below it (a township sees its
villages' cases, a county all its townships'). Acting follows the queue: a task is offered to the
center that handles the case, so a 调解员 of the township takes the township's tasks, not its
villages'; supervisory roles (中心主任, 政法委管理者) act anywhere below them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from .task_meta import TASK_ROLES

SUPERVISORY_ROLES = frozenset({"director", "manager"})
# 窗口受理员, 网格员 (reporting from the grid), and the intake channels' own pseudo-role (engine/channels.py)
REGISTERING_ROLES = frozenset({"clerk", "grid_worker", "channel"})


def jurisdiction_prefix(code: str) -> str:
    """The prefix shared by every code inside jurisdiction `code`.

    行政区划代码: 15 0000 is a province, 1502 00 a city, 150207 a county; codes below a county
    (乡镇 9 digits, 村 12 digits, 网格 longer) extend it. A city therefore covers every code
    starting with "1502".
    """
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def code_covers(outer: str, inner: str) -> bool:
    """True if jurisdiction `inner` is `outer` or lies below it."""
    return inner == outer or inner.startswith(jurisdiction_prefix(outer))


def _under(column, code: str) -> ColumnElement[bool]:
    return or_(column == code, column.startswith(jurisdiction_prefix(code), autoescape=True))


@dataclass(frozen=True)
class Grant:
    """One role held over one jurisdiction subtree; `department_id` narrows a liaison to a department."""

    role: str
    jurisdiction_code: str
    department_id: int | None = None

    def covers(self, code: str) -> bool:
        return code_covers(self.jurisdiction_code, code)

    def takes(self, role: str, jurisdiction_code: str, department_id: int | None) -> bool:
        """May this grant take a task of `role` offered at `jurisdiction_code` (and department)?"""
        if role != self.role:
            return False
        if self.role in SUPERVISORY_ROLES:
            return self.covers(jurisdiction_code)
        if jurisdiction_code != self.jurisdiction_code:
            return False
        # A liaison without a department coordinates every department of the center; a department's
        # liaison takes that department's queue only (they do not read the center's other cases).
        return self.department_id is None or department_id == self.department_id


@dataclass(frozen=True)
class Actor:
    """A user (or the system) acting on cases."""

    username: str
    grants: frozenset[Grant]
    display_name: str = ""
    home_jurisdiction: str = ""
    # AB岗: the absent colleagues (A) this actor is the named backup (B) of.
    standing_in_for: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, username: str, roles, jurisdiction_code: str, display_name: str = "",
           department_id: int | None = None) -> "Actor":
        """An actor holding every role in `roles` over one jurisdiction."""
        return cls(username, frozenset(Grant(role, jurisdiction_code, department_id if role == "liaison" else None)
                                       for role in roles), display_name, jurisdiction_code)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(grant.role for grant in self.grants)

    @property
    def jurisdiction_code(self) -> str:
        """The actor's own unit: where a case they register is registered unless they say otherwise."""
        if self.home_jurisdiction:
            return self.home_jurisdiction
        return min((g.jurisdiction_code for g in self.grants), key=len, default="")

    def jurisdictions(self) -> list[str]:
        """Every jurisdiction the actor holds a grant over, widest first, without ones already covered."""
        codes = sorted({g.jurisdiction_code for g in self.grants if not _is_department_only(self, g)}, key=len)
        kept: list[str] = []
        for code in codes:
            if not any(code_covers(outer, code) for outer in kept):
                kept.append(code)
        return kept

    def covers(self, jurisdiction_code: str) -> bool:
        """True if the actor may read cases registered or handled at `jurisdiction_code`."""
        return any(code_covers(outer, jurisdiction_code) for outer in self.jurisdictions())

    def may_act_as(self, role: str) -> bool:
        return role in self.roles

    def can_register(self, jurisdiction_code: str) -> bool:
        return any(g.role in REGISTERING_ROLES and g.covers(jurisdiction_code) for g in self.grants)

    def can_take(self, role: str, jurisdiction_code: str, department_id: int | None = None) -> bool:
        """May the actor take (claim, complete) a task offered to this role, center and department?"""
        return any(grant.takes(role, jurisdiction_code, department_id) for grant in self.grants)

    def supervises(self, jurisdiction_code: str) -> bool:
        """Holds a supervisory role (中心主任, 政法委) over `jurisdiction_code`: may reassign there."""
        return any(g.role in SUPERVISORY_ROLES and g.covers(jurisdiction_code) for g in self.grants)

    def case_filter(self) -> ColumnElement[bool]:
        """SQL condition on `Case` for the cases this actor may read.

        A case is readable where it was registered and where it is handled now (so an escalated
        case stays in its village's records); a department liaison reads what was dispatched to
        their department.
        """
        from .models import Case, HumanTask

        conditions = []
        for code in self.jurisdictions():
            conditions += [_under(Case.jurisdiction_code, code), _under(Case.handling_jurisdiction_code, code)]
        departments = {g.department_id for g in self.grants if g.role == "liaison" and g.department_id is not None}
        if departments:
            conditions.append(Case.department_id.in_(sorted(departments)))
            # An alias, so that a query over tasks joined to cases (the cockpit's) does not correlate
            # this subquery with its own task rows: "any task of the case", not "this task".
            task = aliased(HumanTask)
            conditions.append(exists(select(task.id).where(
                task.case_id == Case.id, task.department_id.in_(sorted(departments)))))
        return or_(*conditions) if conditions else false()

    def task_filter(self) -> ColumnElement[bool]:
        """SQL condition on `HumanTask` for the ready tasks offered to this actor's queues."""
        from .models import HumanTask

        conditions = []
        for grant in self.grants:
            if grant.role not in TASK_ROLES:
                continue
            if grant.role in SUPERVISORY_ROLES:
                place = _under(HumanTask.jurisdiction_code, grant.jurisdiction_code)
            else:
                place = HumanTask.jurisdiction_code == grant.jurisdiction_code
            condition = and_(HumanTask.role == grant.role, place)
            if grant.role == "liaison" and grant.department_id is not None:
                condition = and_(condition, HumanTask.department_id == grant.department_id)
            conditions.append(condition)
        return or_(*conditions) if conditions else false()


def _is_department_only(actor: Actor, grant: Grant) -> bool:
    """A liaison grant for one department reads that department's cases, not the whole subtree."""
    return grant.role == "liaison" and grant.department_id is not None


SYSTEM = Actor("system", frozenset(Grant(role, "") for role in TASK_ROLES), "系统", "")
