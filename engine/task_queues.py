"""Which queue a new human task is offered to: the center handling the case, and for a liaison's
task the department the routing (or a 联席会议 instance) names, mapped to a stationed department."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from . import jurisdictions
from .actors import code_covers
from .models import Case
from .people import resolve_department
from .task_meta import TaskMeta


GRID_ROLE = "grid_worker"


@dataclass(frozen=True)
class Queue:
    jurisdiction_code: str
    department_id: int | None


class TaskQueues:
    """Resolves queues for the tasks created in one engine run (the tree is read once)."""

    def __init__(self, session: Session, case: Case):
        self.session, self.case = session, case
        self._centers: list[str] | None = None

    def queue_for(self, meta: TaskMeta, task_data: dict[str, Any]) -> Queue:
        center = self.case.handling_jurisdiction_code or self.case.jurisdiction_code
        if meta.role == GRID_ROLE:
            # 网格员 work their own grid: a task for them goes to the place the case was registered
            # at (a grid) when the handling center covers it, so the grid's own worker takes it.
            place = self.case.jurisdiction_code
            return Queue(place if code_covers(center, place) else center, None)
        if meta.role != "liaison":
            return Queue(center, None)
        name = (task_data.get(meta.label_field) if meta.label_field else None) or task_data.get("department")
        department = resolve_department(self.session, self.centers(), name if isinstance(name, str) else None)
        if department is not None and self.case.department == name:
            self.case.department_id = department.id
        if department is None:
            return Queue(center, None)
        # A department stationed at a center above (the county's 人社局 for a township case) works
        # from its own center's queue.
        return Queue(department.jurisdiction_code, department.id)

    def centers(self) -> list[str]:
        """The handling center and the centers above it, nearest first."""
        if self._centers is None:
            code = self.case.handling_jurisdiction_code or self.case.jurisdiction_code
            self._centers = [row.code for row in jurisdictions.path(self.session, code)] or [code]
        return self._centers
