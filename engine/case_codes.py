"""一案一码: case codes `<jurisdiction>-<year>-<sequence>`, e.g. 150207-2026-000123."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import CaseSequence


def next_case_code(session: Session, jurisdiction_code: str, year: int) -> str:
    """Issue the next code for this jurisdiction and year."""
    return format_case_code(jurisdiction_code, year, next_number(session, jurisdiction_code, year))


def next_number(session: Session, scope: str, year: int) -> int:
    """The next number of `scope` in `year`, atomically and without duplicates from races.

    An upsert increments the counter in one statement, so two clerks registering at the same moment
    get different numbers on PostgreSQL and SQLite alike.
    """
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        return _next_number_portable(session, scope, year)
    statement = (
        insert(CaseSequence)
        .values(jurisdiction_code=scope, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[CaseSequence.jurisdiction_code, CaseSequence.year],
            set_={"last_value": CaseSequence.last_value + 1},
        )
        .returning(CaseSequence.last_value)
    )
    return session.execute(statement).scalar_one()


def _next_number_portable(session: Session, scope: str, year: int) -> int:
    row = session.execute(
        select(CaseSequence).where(CaseSequence.jurisdiction_code == scope, CaseSequence.year == year)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = CaseSequence(jurisdiction_code=scope, year=year, last_value=0)
        session.add(row)
    row.last_value += 1
    session.flush()
    return row.last_value


def format_case_code(jurisdiction_code: str, year: int, sequence: int) -> str:
    return f"{jurisdiction_code}-{year}-{sequence:06d}"
