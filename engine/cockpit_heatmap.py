"""Where the flow stalls (流程热力图): per user task of a category, the cases waiting there now and the
median and 90th-percentile time the tasks completed in a period took; and the path of one case.

Read from the human-task projection only. A task counts where it was offered (HumanTask.jurisdiction_code,
the handling center) when that lies under the scope, and only for cases the actor reads. Durations are
completed_at − created_at in hours; percentiles interpolate linearly between the two nearest
durations, as PostgreSQL's percentile_cont does (computed there in SQL, elsewhere in Python).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from .actors import Actor, _under
from .cockpit_metrics import Period
from .models import Case, HumanTask

HOUR = 3600.0


@dataclass(frozen=True)
class NodeHeat:
    """One user task of the diagram: waiting now, completed in the period, and how long those took."""

    element_id: str
    waiting: int
    completed: int
    median_hours: float | None  # None when nothing was completed in the period
    p90_hours: float | None


@dataclass(frozen=True)
class CasePath:
    """Where one case has been (completed tasks, in the order they were completed) and is now."""

    done: list[str]
    current: list[str]


def percentile(values: list[float], share: float) -> float | None:
    """percentile_cont(share) of `values`: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def heatmap(session: Session, actor: Actor, category: str, scope: str, period: Period,
            now: datetime) -> dict[str, NodeHeat]:
    """Per element id of `category`'s user tasks that had any task waiting now or completed in
    `period` under `scope` (checked against the actor by the caller); nodes absent had neither."""
    readable = and_(HumanTask.category_code == category, _under(HumanTask.jurisdiction_code, scope),
                    actor.case_filter())
    waiting = dict(session.execute(
        select(HumanTask.element_id, func.count())
        .join(Case, Case.id == HumanTask.case_id)
        .where(readable, HumanTask.state == "ready", Case.status == "open")  # ready only while open (see timers)
        .group_by(HumanTask.element_id)).all())
    completed_in = and_(readable, HumanTask.state == "completed",
                        HumanTask.completed_at >= period.start, HumanTask.completed_at < period.end)
    if session.get_bind().dialect.name == "postgresql":
        times = _times_in_sql(session, completed_in)
    else:
        times = _times_in_python(session, completed_in)
    result = {}
    for element_id in sorted(set(waiting) | set(times)):
        completed, median, p90 = times.get(element_id, (0, None, None))
        result[element_id] = NodeHeat(element_id, int(waiting.get(element_id, 0)), completed, median, p90)
    return result


def _times_in_sql(session: Session, where) -> dict[str, tuple[int, float, float]]:
    seconds = func.extract("epoch", HumanTask.completed_at - HumanTask.created_at)
    rows = session.execute(
        select(HumanTask.element_id, func.count(),
               func.percentile_cont(0.5).within_group(seconds), func.percentile_cont(0.9).within_group(seconds))
        .join(Case, Case.id == HumanTask.case_id)
        .where(where)
        .group_by(HumanTask.element_id)).all()
    return {element_id: (int(count), float(median) / HOUR, float(p90) / HOUR)
            for element_id, count, median, p90 in rows}


def _times_in_python(session: Session, where) -> dict[str, tuple[int, float, float]]:
    durations: dict[str, list[float]] = defaultdict(list)
    for element_id, created_at, completed_at in session.execute(
            select(HumanTask.element_id, HumanTask.created_at, HumanTask.completed_at)
            .join(Case, Case.id == HumanTask.case_id).where(where)):
        durations[element_id].append((completed_at - created_at).total_seconds())
    return {element_id: (len(values), percentile(values, 0.5) / HOUR, percentile(values, 0.9) / HOUR)
            for element_id, values in durations.items()}


def case_path(session: Session, case: Case) -> CasePath:
    """The element ids `case` has completed (first completion order, each once) and is at now."""
    done: list[str] = []
    for element_id in session.scalars(
            select(HumanTask.element_id)
            .where(HumanTask.case_id == case.id, HumanTask.state == "completed")
            .order_by(HumanTask.completed_at, HumanTask.created_at, HumanTask.id)):
        if element_id not in done:
            done.append(element_id)
    current = sorted(set(session.scalars(
        select(HumanTask.element_id).where(HumanTask.case_id == case.id, HumanTask.state == "ready"))))
    return CasePath(done, current)
