"""Jinja filters: local time, masking and the Chinese names of codes."""
from __future__ import annotations

from datetime import datetime

from flask import Flask

from engine.calendar import SHANGHAI
from engine.projection import LEVEL_NAMES
from engine.queries import STATUS_NAMES
from engine.task_meta import ROLES

from .masking import mask_id, mask_phone

RISK_CLASSES = {"红": "red", "橙": "orange", "黄": "yellow", "蓝": "blue", "绿": "green"}
DEADLINE_CLASSES = {"正常": "ok", "临期": "warn", "超期": "late", "暂停": "paused"}
TASK_STATE_NAMES = {"ready": "待办", "completed": "已办", "cancelled": "已撤回"}
TIMER_KIND_NAMES = {"warning": "临期预警", "overdue": "超期", "escalate": "超期升级", "expire": "期满终止"}


def local_time(value: datetime | None) -> str:
    """An aware instant as Beijing time, minute precision: what every clerk's wall clock shows."""
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        local_time=local_time,
        mask_id=mask_id,
        mask_phone=mask_phone,
        role_name=lambda code: ROLES.get(code, code or ""),
        level_name=lambda code: LEVEL_NAMES.get(code, code or ""),
        status_name=lambda code: STATUS_NAMES.get(code, code or ""),
        risk_class=lambda color: RISK_CLASSES.get(color, "none"),
        deadline_class=lambda state: DEADLINE_CLASSES.get(state, "ok"),
        task_state_name=lambda state: TASK_STATE_NAMES.get(state, state),
        timer_kind_name=lambda kind: TIMER_KIND_NAMES.get(kind, "计时器"),
    )
