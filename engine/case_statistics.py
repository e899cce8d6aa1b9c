"""The columns of a case the cockpit counts, derived from its data on every engine run.

Statistics never read a workflow: the projection writes here what they need — the intake channel,
how the case ended, the citizen's satisfaction, 二次督办 rounds, the agreement and its
performance, and the nearest warning and due time of the open tasks — and engine/cockpit_metrics.py
defines every number over these columns.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from .models import Case, HumanTask

SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")
OUTCOMES = ("resolved", "unresolved", "rejected")


def update_statistics(case: Case, data: dict[str, Any], open_tasks: Iterable[HumanTask]) -> None:
    """Write the counted columns of `case` from its current data and its ready tasks."""
    intake = case.intake if isinstance(case.intake, dict) else {}
    channel = intake.get("channel")
    case.intake_channel = channel if isinstance(channel, str) and channel else None
    satisfaction = data.get("satisfaction")
    case.satisfaction = satisfaction if satisfaction in SATISFACTION else None
    case.second_supervision_count = _whole(data.get("second_supervision_count"))
    case.agreement_amount = _amount(data.get("agreement_amount"))
    performed = data.get("performed")
    case.performed = performed if isinstance(performed, bool) else None
    case.referred_out = bool(data.get("legal_route"))
    running = [task for task in open_tasks if task.paused_at is None]
    case.next_warn_at = min((t.warn_at for t in running if t.warn_at is not None), default=None)
    case.next_due_at = min((t.due_at for t in running if t.due_at is not None), default=None)


def close_statistics(case: Case, data: dict[str, Any]) -> None:
    """How a closed case ended: 不予受理 (rejected), 化解 (resolved: a mediation that succeeded, or a
    case concluded without mediation — 当场办结), or not resolved (mediation failed, other routes)."""
    case.next_warn_at = case.next_due_at = None
    if data.get("accepted") is False:
        case.outcome = "rejected"
    elif data.get("mediation_outcome") == "success" or (case.status == "concluded" and "mediation_outcome" not in data):
        case.outcome = "resolved"
    else:
        case.outcome = "unresolved"


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and 0 <= amount < Decimal("1e12") else None
