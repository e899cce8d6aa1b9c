"""What Fengqiao reads from a task's `spiffworkflow:properties`: form, role and time limits."""
from __future__ import annotations

from dataclasses import dataclass

from .calendar import Duration

ROLES = {
    "clerk": "窗口受理员",
    "analyst": "研判员",
    "mediator": "调解员",
    "liaison": "部门联络员",
    "director": "中心主任",
    "manager": "政法委管理者",
    "designer": "流程设计员",
    "admin": "系统管理员",
    "grid_worker": "网格员",
}
# grid_worker: 网格员 handle 小事 in their own grid where a process gives them a task (engine/task_queues.py).
TASK_ROLES = ("clerk", "analyst", "mediator", "liaison", "director", "manager", "grid_worker")
DEFAULT_WARN_SHARE = 0.8
TIMER_KINDS = ("warning", "overdue", "escalate", "expire")
DEADLINE_HELPERS = ("warning_of", "deadline_of", "escalation_of")
CASE_STATUSES = ("concluded", "terminated")


class PropertyError(ValueError):
    """A task property is missing or malformed; the message names the property."""


@dataclass(frozen=True)
class TaskMeta:
    element_id: str
    name: str
    form: str
    role: str
    deadline: Duration
    warn_share: float
    escalate_after: Duration | None
    pause_reasons: tuple[str, ...] = ()
    extension: Duration | None = None
    max_extensions: int = 1
    label_field: str | None = None  # case data shown after the name, e.g. the department of a 联席会议 instance

    def label(self, data: dict) -> str:
        """The task's name as inboxes show it."""
        value = data.get(self.label_field) if self.label_field else None
        return f"{self.name}（{value}）" if value else self.name

    @classmethod
    def from_properties(cls, element_id: str, name: str, props: dict[str, str]) -> "TaskMeta":
        """Read and check the properties of user task `element_id`; raise PropertyError."""
        missing = [key for key in ("form", "role", "deadline") if not props.get(key)]
        if missing:
            raise PropertyError(f"user task needs spiffworkflow properties {', '.join(missing)}")
        role = props["role"]
        if role not in TASK_ROLES:
            raise PropertyError(f"role {role!r} is unknown; use one of {', '.join(TASK_ROLES)}")
        deadline = _duration(props, "deadline")
        try:
            warn_share = float(props.get("warn_share", DEFAULT_WARN_SHARE))
        except ValueError:
            raise PropertyError(f"warn_share {props['warn_share']!r} is not a number") from None
        if not 0 < warn_share < 1:
            raise PropertyError(f"warn_share {warn_share} must be between 0 and 1")
        escalate_after = _duration(props, "escalate_after") if props.get("escalate_after") else None
        pause_reasons = tuple(r.strip() for r in props.get("pause_reasons", "").split(",") if r.strip())
        extension = _duration(props, "extension") if props.get("extension") else None
        try:
            max_extensions = int(props.get("max_extensions", "1"))
        except ValueError:
            raise PropertyError(f"max_extensions {props['max_extensions']!r} is not a whole number") from None
        if max_extensions < 0:
            raise PropertyError("max_extensions cannot be negative")
        return cls(element_id, name or element_id, props["form"], role, deadline, warn_share, escalate_after,
                   pause_reasons, extension, max_extensions, props.get("label_field") or None)


def _duration(props: dict[str, str], key: str) -> Duration:
    from .calendar import DurationError

    try:
        return Duration.parse(props[key])
    except DurationError as exc:
        raise PropertyError(f"{key}: {exc}") from None
