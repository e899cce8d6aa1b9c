"""A scratch database for simulating a draft: an in-memory SQLite with the engine's tables, holding
a copy of the part of the organisation a simulated case can reach — and nothing else.

A case registered at a place is handled by centers on the path from the place up (escalation
walks up from the center handling it, 交办 walks down the place's own path), so the jurisdictions
copied are the place's chain and the designer's jurisdiction's chain; with them their departments,
the users holding a role there (without their passwords) and the calendar rulings on those levels.
Ids are kept, so grants still name their departments. The real database is only read.
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from .actors import jurisdiction_prefix
from .db import create_schema
from .models import CalendarOverride, Department, Jurisdiction, RoleGrant, User
from .variant_lookup import ancestors


class ScratchDatabase:
    """A private in-memory SQLite database. `image()` copies its whole content into bytes and
    `ScratchDatabase(image)` starts another from such a copy: a simulation forks a case at a
    decision this way instead of running it again from the start."""

    def __init__(self, image: bytes | None = None):
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        if image is not None:
            # Only ever into a fresh connection: replacing a database under open statements crashes.
            connection.deserialize(image)
        self._connection = connection
        # StaticPool: every session uses the one connection that holds the database.
        self.engine = create_engine("sqlite://", poolclass=StaticPool, creator=lambda: connection)
        self.sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        if image is None:
            create_schema(self.engine)

    def image(self) -> bytes:
        """The database as bytes; call between sessions (nothing open on the connection)."""
        return self._connection.serialize()

    def close(self) -> None:
        self.engine.dispose()
        self._connection.close()


def scratch_database(session: Session, jurisdiction_code: str, place: str) -> ScratchDatabase:
    """A fresh scratch database holding the organisation a case registered at `place` can reach."""
    database = ScratchDatabase()
    # The chains, not only the table's rows: without a 行政区划 tree cases stay where they are
    # registered, and the people holding roles there must still be found.
    codes = {code for start in {place, jurisdiction_code} for code in ancestors(session, start) if code}
    with database.sessions() as scratch:
        copy_organisation(session, scratch, codes)
        scratch.commit()
    return database


def copy_organisation(source: Session, target: Session, codes: set[str]) -> None:
    """Copy the jurisdictions `codes`, their departments, the users holding a role at one of them
    (or over the whole base, "") and every calendar ruling at these levels or for everywhere."""
    for row in source.scalars(select(Jurisdiction).where(Jurisdiction.code.in_(sorted(codes)))
                              .order_by(Jurisdiction.code)):
        target.add(Jurisdiction(code=row.code, name=row.name, level=row.level, parent_code=row.parent_code,
                                center_name=row.center_name))
    for row in source.scalars(select(Department).where(Department.jurisdiction_code.in_(sorted(codes)))):
        target.add(Department(id=row.id, jurisdiction_code=row.jurisdiction_code, code=row.code, name=row.name,
                              presence=row.presence, rotation_start=row.rotation_start,
                              rotation_end=row.rotation_end, active=row.active))
    levels = sorted(codes | {""})
    grants = source.scalars(select(RoleGrant).where(RoleGrant.jurisdiction_code.in_(levels))).all()
    users = {user.id: user for user in source.scalars(
        select(User).where(User.id.in_(sorted({g.user_id for g in grants}))))}
    for user in users.values():
        target.add(User(id=user.id, username=user.username, display_name=user.display_name, password_hash="",
                        jurisdiction_code=user.jurisdiction_code, backup_username=user.backup_username,
                        absent_until=user.absent_until, active=user.active, failed_logins=0))
    target.flush()
    for grant in grants:
        target.add(RoleGrant(id=grant.id, user_id=grant.user_id, role=grant.role,
                             jurisdiction_code=grant.jurisdiction_code, department_id=grant.department_id))
    for row in source.scalars(select(CalendarOverride).where(CalendarOverride.jurisdiction_code.in_(levels))):
        target.add(CalendarOverride(jurisdiction_code=row.jurisdiction_code, day=row.day, is_workday=row.is_workday,
                                    note=row.note, updated_by=row.updated_by, updated_at=row.updated_at))
    target.flush()


def default_place(session: Session, jurisdiction_code: str) -> str:
    """Where the sample case is registered: the first village (then township) below the designer's
    jurisdiction that has a station, so routing down to 村/乡镇 has somewhere to go; else the
    jurisdiction itself."""
    prefix = jurisdiction_prefix(jurisdiction_code)
    for level in ("village", "township"):
        code = session.scalars(select(Jurisdiction.code).where(
            Jurisdiction.code.startswith(prefix, autoescape=True), Jurisdiction.code != jurisdiction_code,
            Jurisdiction.level == level, Jurisdiction.center_name.is_not(None))
            .order_by(Jurisdiction.code).limit(1)).first()
        if code:
            return code
    return jurisdiction_code
