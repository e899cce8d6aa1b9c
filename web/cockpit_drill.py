"""The case list behind a cockpit number (/cases?metric=…): the very condition the number counts
(CaseQuery.conditions), its exact total, and a banner saying what is listed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import func, select

from engine.actors import Actor
from engine.cockpit_board import CHANNEL_NAMES, LEVEL_NAMES
from engine.cockpit_metrics import COUNTS, NONE_VALUE, CaseQuery
from engine.models import Case, Department, Jurisdiction

from .extensions import db

DIMENSION_NAMES = {"category": "纠纷类别", "level": "承办层级", "department": "承办部门", "channel": "来源渠道",
                   "risk": "风险等级", "place": "地区", "mediator": "调解员"}
NOT_SET = {"category": "未分类", "level": "未定层级", "department": "未分流", "channel": "未注明", "risk": "未研判",
           "place": "未注明", "mediator": "无人调解"}


@dataclass(frozen=True)
class DrillDown:
    query: CaseQuery
    cases: list[Case]  # newest first, at most `limit`
    total: int  # every case the number counts
    metric_name: str
    period_label: str
    scope_name: str
    filters: list[tuple[str, str]]  # (dimension name, value label)
    back_url: str


def drill_down(actor: Actor, params, now: datetime, category_names: dict[str, str], limit: int = 200) -> DrillDown:
    """The cases of the number `params` describe (CaseQuery.from_params); QueryError if they cannot be read."""
    query = CaseQuery.from_params(params, actor, now)
    condition = query.conditions(actor, now)
    cases = list(db.session.scalars(select(Case).where(condition)
                                    .order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)))
    total = db.session.scalar(select(func.count()).select_from(Case).where(condition)) or 0
    count = COUNTS[query.metric]
    period_label = query.period.label if count.in_period else "截至当前（实时数）"
    return DrillDown(query, cases, total, count.name, period_label, _place_name(query.scope),
                     [(DIMENSION_NAMES[d], _value_label(d, v, category_names)) for d, v in query.filters.items()],
                     url_for("cockpit.index", scope=query.scope, period=query.period.key))


def _value_label(dimension: str, value: str, category_names: dict[str, str]) -> str:
    if value == NONE_VALUE:
        return NOT_SET[dimension]
    if dimension == "category":
        return category_names.get(value, value)
    if dimension == "level":
        return LEVEL_NAMES.get(value, value)
    if dimension == "channel":
        return CHANNEL_NAMES.get(value, value)
    if dimension == "risk":
        return f"{value}色"
    if dimension == "department":
        department = db.session.get(Department, int(value))
        return department.name if department else value
    return _place_name(value.ljust(6, "0") if len(value) < 6 else value)


def _place_name(code: str) -> str:
    row = db.session.get(Jurisdiction, code)
    return row.name if row else code
