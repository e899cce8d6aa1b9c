"""The rollup of the cockpit's in-period counts, per Beijing month (case_month_stat) and per day
(case_day_stat): whole months are read from the first, the days of a week or a partial month from
the second.

A case contributes to the counts of engine/cockpit_metrics.py COUNTS through a few of its columns;
`contribution` says how, with the same definitions (received/dispatched in the month and day the case
was created, the closed-type counts in the month and day it was closed, Beijing time). The rollup is kept in
step by a flush hook on every SQLAlchemy session: whatever code changes a case (the runtime, transfers,
level moves, migration, imports …) changes it through the ORM, so comparing the case's row in the
database before the flush with the object after it gives the exact difference to add. Only bulk SQL
that bypasses the ORM (bench/generate_province.py) has to call `rebuild` afterwards.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import Date, Integer, String, cast, delete, event, func, literal, or_, select, text, union_all
from sqlalchemy import case as when
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .calendar import SHANGHAI
from .models import Case, CaseDayStat, CaseMonthStat

CLOSED = ("concluded", "terminated")
SATISFIED = ("satisfied", "basically_satisfied")
NONE_VALUE = "-"  # as engine/cockpit_metrics.py NONE_VALUE
TOTAL = "total"
ROLLUP_COUNTS = ("received", "dispatched", "closed", "handled", "resolved", "rejected", "absorbed", "surveyed",
                 "satisfied", "second_supervision", "performance_checked", "performed")
# The dimension a rollup row is grouped by -> the Case attribute it reads ("total": every case, value "").
DIMENSION_ATTRIBUTES = {"category": "category_code", "level": "handling_level", "department": "department_id",
                        "channel": "intake_channel", "risk": "risk_color"}
# Every Case attribute a contribution reads: a flush that changes none of them cannot change the rollup.
READ_ATTRIBUTES = ("created_at", "closed_at", "status", "jurisdiction_code", "handling_jurisdiction_code",
                   "department", "outcome", "referred_out", "satisfaction", "second_supervision_count",
                   "performed", *DIMENSION_ATTRIBUTES.values())

# The rollup's grains: name -> its table (its first primary-key column is the period's first day).
GRAIN_TABLES = {"month": CaseMonthStat.__table__, "day": CaseDayStat.__table__}
Key = tuple[str, date, str, str, str, str]  # grain, its first day, reg_county, handling_county, dimension, value


def _grain_start(grain: str, moment: datetime) -> date:
    day = moment.astimezone(SHANGHAI).date()
    return day.replace(day=1) if grain == "month" else day


def contribution(case: Any) -> Counter[Key]:
    """What one case adds to the rollup: {key: Counter({count: 1, …})}. `case` is a Case or any
    object/mapping with the READ_ATTRIBUTES; None contributes nothing."""
    if case is None:
        return Counter()
    get = case.get if isinstance(case, Mapping) else (lambda name: getattr(case, name))
    received: dict[str, int] = {}
    closed: dict[str, int] = {}
    if get("created_at") is not None:
        received = {"received": 1,
                    "dispatched": int(get("department_id") is not None or get("department") is not None)}
    if get("status") in CLOSED and get("closed_at") is not None:
        outcome, satisfaction, performed = get("outcome"), get("satisfaction"), get("performed")
        closed = {"closed": 1, "handled": int(outcome in ("resolved", "unresolved")),
                  "resolved": int(outcome == "resolved"), "rejected": int(outcome == "rejected"),
                  "absorbed": int(get("referred_out") is False), "surveyed": int(satisfaction is not None),
                  "satisfied": int(satisfaction in SATISFIED),
                  "second_supervision": int((get("second_supervision_count") or 0) > 0),
                  "performance_checked": int(performed is not None), "performed": int(performed is True)}
    reg, handling = (get("jurisdiction_code") or "")[:6], (get("handling_jurisdiction_code") or "")[:6]
    values = [(TOTAL, "")] + [(dimension, NONE_VALUE if get(attribute) is None else str(get(attribute)))
                              for dimension, attribute in DIMENSION_ATTRIBUTES.items()]
    result: Counter[Key] = Counter()
    for moment, counts in ((get("created_at"), received), (get("closed_at"), closed)):
        if not counts:
            continue
        for grain in GRAIN_TABLES:
            first = _grain_start(grain, moment)
            for dimension, value in values:
                key = (grain, first, reg, handling, dimension, value)
                result[key] = result.get(key, Counter()) + Counter({k: v for k, v in counts.items() if v})
    return result


def delta(before: Counter[Key], after: Counter[Key]) -> dict[Key, dict[str, int]]:
    """after − before per key and count, without zero entries."""
    result: dict[Key, dict[str, int]] = {}
    for key in set(before) | set(after):
        old, new = before.get(key, Counter()), after.get(key, Counter())
        change = {count: new.get(count, 0) - old.get(count, 0) for count in ROLLUP_COUNTS}
        change = {count: amount for count, amount in change.items() if amount}
        if change:
            result[key] = change
    return result


def apply_delta(session: Session, before: Counter[Key] | None, after: Counter[Key] | None) -> None:
    """Add after − before to the rollup tables (an upsert per changed row; nothing when equal)."""
    write_changes(session.connection(), delta(before or Counter(), after or Counter()))


def write_changes(connection, changes: dict[Key, dict[str, int]]) -> None:
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for grain, table in GRAIN_TABLES.items():  # always months before days, so writers lock alike
        key_names = [c.name for c in table.primary_key.columns]
        rows = [{**dict(zip(key_names, key[1:])), **{count: change.get(count, 0) for count in ROLLUP_COUNTS}}
                for key, change in sorted(changes.items()) if key[0] == grain]  # and rows in key order
        if not rows:
            continue
        # One multi-row statement: one round trip, where executemany would make one per row.
        statement = insert(table).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=key_names,
            set_={count: table.c[count] + statement.excluded[count] for count in ROLLUP_COUNTS})
        connection.execute(statement)


def rebuild(session: Session) -> dict[str, int]:
    """Recompute both rollup tables from the case table, each in one INSERT … SELECT … GROUP BY (for
    databases older than the rollup, or after bulk loads); in the caller's transaction. Returns the
    row count per grain. The SQL spells out the same definitions as `contribution` (tests compare the two)."""
    connection = session.connection()
    return {grain: _rebuild_grain(connection, grain, table) for grain, table in GRAIN_TABLES.items()}


def _rebuild_grain(connection, grain: str, table) -> int:
    connection.execute(delete(table))
    first_day = table.primary_key.columns.values()[0].name
    parts = []
    for side, moment in (("received", Case.created_at), ("closed", Case.closed_at)):
        sums = _side_sums(side)
        where = [moment.is_not(None)] if side == "received" else [Case.status.in_(CLOSED), moment.is_not(None)]
        for dimension, value in [(TOTAL, literal("", String))] + [
                (d, func.coalesce(cast(getattr(Case, a), String), NONE_VALUE)) for d, a in DIMENSION_ATTRIBUTES.items()]:
            parts.append(select(_start_expression(connection.dialect.name, grain, moment).label(first_day),
                                func.substr(Case.jurisdiction_code, 1, 6).label("reg_county"),
                                func.substr(Case.handling_jurisdiction_code, 1, 6).label("handling_county"),
                                literal(dimension, String).label("dimension"), value.label("value"),
                                *[sums[count].label(count) for count in ROLLUP_COUNTS])
                         .where(*where).group_by(text("1, 2, 3, 4, 5")))
    rows = union_all(*parts).subquery()
    keys = [rows.c[first_day], rows.c.reg_county, rows.c.handling_county, rows.c.dimension, rows.c.value]
    # In key order, so one period's rows sit together on disk (a week's board reads a few hundred
    # pages, not one page per row).
    summed = select(*keys, *[func.sum(rows.c[count]).label(count) for count in ROLLUP_COUNTS]) \
        .group_by(*keys).order_by(*keys)
    connection.execute(table.insert().from_select([c.name for c in keys] + list(ROLLUP_COUNTS), summed))
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def rebuild_if_empty(session: Session) -> bool:
    """Rebuild (and commit) when a rollup table is empty but cases exist: a database from before the
    rollup (or its daily grain), started by a version that keeps it. Returns whether it rebuilt."""
    if session.scalar(select(Case.id).limit(1)) is None:
        return False
    tables = GRAIN_TABLES.values()
    if all(session.execute(select(table.primary_key.columns.values()[0]).limit(1)).first() is not None
           for table in tables):
        return False
    rebuild(session)
    session.commit()
    return True


def _start_expression(dialect: str, grain: str, moment):
    """The first day of the Beijing month or the Beijing day of a UTC timestamp column (stored naive,
    see UTCDateTime)."""
    if dialect == "postgresql":
        local = func.timezone("Asia/Shanghai", func.timezone("UTC", moment))
        return cast(func.date_trunc(grain, local), Date)
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS' text; China has kept UTC+8 without daylight saving since 1991.
    return func.date(moment, "+8 hours", "start of month") if grain == "month" else func.date(moment, "+8 hours")


def _side_sums(side: str) -> dict:
    """Each count's SUM for the rows of one side: received-type counts by created_at, closed-type by
    closed_at; the other side's counts are 0 there."""
    def flag(condition):
        return func.sum(when((condition, 1), else_=0))

    zero = literal(0, Integer)
    if side == "received":
        sums = {"received": func.count(), "dispatched": flag(or_(Case.department_id.is_not(None),
                                                                 Case.department.is_not(None)))}
    else:
        sums = {"closed": func.count(), "handled": flag(Case.outcome.in_(("resolved", "unresolved"))),
                "resolved": flag(Case.outcome == "resolved"), "rejected": flag(Case.outcome == "rejected"),
                "absorbed": flag(Case.referred_out.is_(False)), "surveyed": flag(Case.satisfaction.is_not(None)),
                "satisfied": flag(Case.satisfaction.in_(SATISFIED)),
                "second_supervision": flag(Case.second_supervision_count > 0),
                "performance_checked": flag(Case.performed.is_not(None)), "performed": flag(Case.performed.is_(True))}
    return {count: sums.get(count, zero) for count in ROLLUP_COUNTS}


# -- the flush hook ------------------------------------------------------------------------------

_BEFORE = "case_rollup_before"


def _changed(case: Case) -> bool:
    from sqlalchemy import inspect

    attrs = inspect(case).attrs
    return any(attrs[name].history.has_changes() for name in READ_ATTRIBUTES)


def _stored(session: Session, ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
    """The cases' rollup columns as the database holds them now (before this flush writes)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    columns = [Case.id, *(getattr(Case, name) for name in READ_ATTRIBUTES)]
    return {row.id: row._mapping for row in session.connection().execute(select(*columns).where(Case.id.in_(ids)))}


@event.listens_for(Session, "before_flush")
def _remember_before(session: Session, _context, _instances) -> None:
    changed = [obj for obj in session.dirty if isinstance(obj, Case) and obj.id is not None and _changed(obj)]
    deleted = [obj for obj in session.deleted if isinstance(obj, Case) and obj.id is not None]
    if not changed and not deleted:
        session.info.pop(_BEFORE, None)
        return
    known = {id(obj): _loaded_values(obj) for obj in changed + deleted}
    stored = _stored(session, [obj.id for obj in changed + deleted if known[id(obj)] is None])
    session.info[_BEFORE] = {id(obj): (obj, contribution(known[id(obj)] or stored.get(obj.id)), obj in deleted)
                             for obj in changed + deleted}


def _loaded_values(case: Case) -> dict[str, Any] | None:
    """The case's rollup columns as loaded from the database, from the ORM's committed state (no
    query); None when one of them is unknown (never loaded, or expired), and the database must be asked."""
    from sqlalchemy import inspect
    from sqlalchemy.orm.base import NO_VALUE

    state = inspect(case)
    values: dict[str, Any] = {}
    for name in READ_ATTRIBUTES:
        if name in state.committed_state:  # changed since loaded: the loaded value is kept here
            values[name] = state.committed_state[name]
        elif name in state.dict:
            values[name] = state.dict[name]
        else:
            return None
        if values[name] is NO_VALUE:
            return None
    return values


@event.listens_for(Session, "after_flush")
def _write_delta(session: Session, _context) -> None:
    # After the flush, so column defaults (referred_out False …) are on the new objects.
    changes: Counter[Key] = Counter()
    before: Counter[Key] = Counter()
    for obj in session.new:
        if isinstance(obj, Case):
            _add(changes, contribution(obj))
    for obj, remembered, is_deleted in session.info.pop(_BEFORE, {}).values():
        _add(before, remembered)
        if not is_deleted:
            _add(changes, contribution(obj))
    write_changes(session.connection(), delta(before, changes))


def _add(total: Counter[Key], part: Counter[Key]) -> None:
    for key, counts in part.items():
        total[key] = total.get(key, Counter()) + counts
