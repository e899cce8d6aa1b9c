"""Time spans as a 综治中心 says them: "3 天 4 小时", "剩余 2 天 5 小时", "已超期 1 天 2 小时".

The node-timer page and the 督办 letters word the same numbers, so both read them from here.
"""
from __future__ import annotations

from datetime import datetime, timedelta


def span_text(span: timedelta) -> str:
    """A non-negative span in days and hours; under an hour in minutes (rounded down)."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时"
    return f"{minutes} 分钟"


def time_left_text(time_left: timedelta | None) -> str:
    """What remains until the limit (剩余 …), or by how much it is past (已超期 …); 无时限 without one."""
    if time_left is None:
        return "无时限"
    if time_left < timedelta(0):
        return f"已超期 {span_text(-time_left)}"
    return f"剩余 {span_text(time_left)}"


def clock_text(due_at: datetime | None, paused_at: datetime | None, now: datetime) -> str:
    """A task's clock in words. While paused its due time stays where it was until the pause ends
    (engine/task_clock.py shifts it on resume), so what it had left is counted to the pause, not to now."""
    if due_at is None:
        return "无时限"
    if paused_at is not None:
        return f"计时暂停（暂停时{time_left_text(due_at - paused_at)}）"
    return time_left_text(due_at - now)
