"""台账 export: one row per case of a cockpit case list, personal data masked as the lists mask it.

The cases are those `CaseQuery.conditions` selects — the very list a cockpit number drills into —
read in batches so a large ledger is written without holding every case in memory, and capped at
`LEDGER_LIMIT` rows: beyond it the export is refused with a message asking for a narrower filter.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .actors import Actor
from .cockpit_board import CHANNEL_NAMES
from .cockpit_metrics import CaseQuery, QueryError
from .masking import mask_id, mask_phone
from .models import Case, Department, Jurisdiction
from .queries import STATUS_NAMES

# Only the columns the ledger prints: whole Case rows would carry each workflow's state (~17 KB) and
# fill the session's identity map over a long ledger.
FIELDS = (Case.id, Case.code, Case.created_at, Case.category_code, Case.intake_channel, Case.jurisdiction_code,
          Case.handling_jurisdiction_code, Case.department_id, Case.department, Case.current_nodes, Case.status,
          Case.risk_color, Case.intake, Case.outcome, Case.satisfaction, Case.closed_at)

LEDGER_LIMIT = 50_000  # rows; an Excel sheet a 政法委 opens comfortably, and a bounded request
BATCH = 1_000
OUTCOME_NAMES = {"resolved": "化解成功", "unresolved": "未化解", "rejected": "不予受理"}
SATISFACTION_NAMES = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
COLUMNS = ("案件编号", "登记时间", "纠纷类别", "来源渠道", "登记地", "承办单位", "当前环节", "状态", "风险等级", "申请人",
           "证件号码", "联系电话", "办理结果", "满意度", "办结时间")


class LedgerTooLarge(QueryError):
    """More cases than one ledger holds; the message says how many and what to do."""

    def __init__(self, total: int):
        super().__init__(f"{total:,} cases match; a ledger holds at most {LEDGER_LIMIT:,}: "
                         "choose a shorter period, a smaller scope or a filter")
        self.total = total


@dataclass(frozen=True)
class LedgerRow:
    code: str
    created_at: datetime
    category: str
    channel: str
    registered_at: str  # 登记地: the jurisdiction's name
    unit: str  # 承办单位
    nodes: str
    status: str
    risk_color: str
    applicant_name: str
    applicant_id_number: str  # masked
    applicant_phone: str  # masked
    outcome: str
    satisfaction: str
    closed_at: datetime | None


def ledger_size(session: Session, actor: Actor, query: CaseQuery, now: datetime) -> int:
    """How many cases the ledger of `query` holds; LedgerTooLarge beyond LEDGER_LIMIT."""
    total = session.scalar(select(func.count()).select_from(Case).where(query.conditions(actor, now))) or 0
    if total > LEDGER_LIMIT:
        raise LedgerTooLarge(total)
    return total


def ledger_rows(session: Session, actor: Actor, query: CaseQuery, now: datetime,
                category_names: dict[str, str]) -> Iterator[LedgerRow]:
    """The ledger's rows, oldest registration first, read BATCH cases at a time (keyset paging); never
    more than LEDGER_LIMIT, even if cases were registered since `ledger_size` counted them."""
    condition = query.conditions(actor, now)
    departments: dict[int, str] = {}
    places: dict[str, str] = {}
    last: tuple[datetime, int] | None = None
    written = 0
    while written < LEDGER_LIMIT:
        statement = select(*FIELDS).where(condition).order_by(Case.created_at, Case.id) \
            .limit(min(BATCH, LEDGER_LIMIT - written))
        if last is not None:
            statement = statement.where((Case.created_at > last[0])
                                        | ((Case.created_at == last[0]) & (Case.id > last[1])))
        cases = session.execute(statement).all()
        if not cases:
            return
        _load_names(session, places, Jurisdiction.code,
                    {c.jurisdiction_code for c in cases} | {c.handling_jurisdiction_code for c in cases})
        _load_names(session, departments, Department.id, {c.department_id for c in cases})
        for case in cases:
            yield _row(case, category_names, departments, places)
        written += len(cases)
        last = (cases[-1].created_at, cases[-1].id)


def _load_names(session: Session, names: dict, key, wanted: set) -> None:
    """Add the names of the jurisdictions or departments a batch mentions and earlier batches did not."""
    missing = [value for value in wanted if value and value not in names]
    if missing:
        entity = key.class_
        names.update({getattr(row, key.key): row.name for row in session.scalars(select(entity).where(key.in_(missing)))})


def _row(case, category_names: dict[str, str], departments: dict[int, str], places: dict[str, str]) -> LedgerRow:
    intake = case.intake or {}
    handling_place = places.get(case.handling_jurisdiction_code, case.handling_jurisdiction_code)
    unit = departments.get(case.department_id) if case.department_id else None
    if unit is None:
        unit = f"{handling_place} {case.department}" if case.department else handling_place
    return LedgerRow(
        case.code, case.created_at, category_names.get(case.category_code, case.category_code),
        CHANNEL_NAMES.get(case.intake_channel, case.intake_channel or ""),
        places.get(case.jurisdiction_code, case.jurisdiction_code), unit,
        "、".join(str(n) for n in case.current_nodes or []), STATUS_NAMES.get(case.status, case.status),
        case.risk_color or "", str(intake.get("applicant_name") or ""),
        mask_id(intake.get("applicant_id_number")) if intake.get("applicant_id_number") else "",
        mask_phone(intake.get("applicant_phone")) if intake.get("applicant_phone") else "",
        OUTCOME_NAMES.get(case.outcome, case.outcome or ""),
        SATISFACTION_NAMES.get(case.satisfaction, case.satisfaction or ""),
        case.closed_at)
