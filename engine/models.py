"""Database tables: cases and their projections, process specs, calendar overrides, users.

The serialized workflow is stored per case without its spec; specs are stored once per content hash.
Everything the UI and the scheduler query (tasks, timers, status) is a plain column here, so no query
ever needs to deserialize a workflow.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware.

    SQLite keeps no zone, PostgreSQL's timestamptz would convert to the session zone; normalising
    to naive UTC in the column keeps both back ends identical.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime; pass an aware one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class ProcessSpec(Base):
    """A parsed process definition, stored once per content hash; cases point at it."""

    __tablename__ = "process_spec"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str] = mapped_column(String(128))
    spec_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProcessVersion(Base):
    """A published, immutable version of a category's definition for one jurisdiction and below.

    `jurisdiction_code` "" is the base every jurisdiction inherits. Numbers count up per (category,
    jurisdiction). A withdrawn (rolled-back) version is skipped when looking up the one in force.
    """

    __tablename__ = "process_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str] = mapped_column(String(20), default="")
    number: Mapped[int] = mapped_column(Integer)
    spec_hash: Mapped[str] = mapped_column(ForeignKey("process_spec.hash"))
    category_name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))  # files / designer / rollback
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # non-BPMN settings in force with it
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ux_process_version", "category_code", "jurisdiction_code", "number", unique=True),)


class Case(Base):
    """A dispute case (案件). `version` guards against two writers advancing it at once."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    category_code: Mapped[str] = mapped_column(String(64), index=True)
    spec_hash: Mapped[str] = mapped_column(ForeignKey("process_spec.hash"))
    process_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    jurisdiction_code: Mapped[str] = mapped_column(String(20), index=True)  # where it was registered
    # Where it is handled now: the registering center, or a level above (escalated) or below (交办).
    handling_jurisdiction_code: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open / concluded / terminated
    title: Mapped[str] = mapped_column(String(200))
    current_nodes: Mapped[list[Any]] = mapped_column(default=list)
    risk_color: Mapped[str | None] = mapped_column(String(8))
    handling_level: Mapped[str | None] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(100))  # as the routing names it
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    is_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    intake: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # current case data, for display only
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    workflow_state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class CaseSequence(Base):
    """Last number issued per scope and year: case codes (scope = jurisdiction code, 一案一码) and
    document numbers (scope = "<jurisdiction>:<document type>")."""

    __tablename__ = "case_sequence"

    jurisdiction_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class HumanTask(Base):
    """Projection of a user task: what inboxes and deadline boards query."""

    __tablename__ = "human_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    form: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))  # ready / completed / cancelled
    # The queue it is offered to: the handling center's jurisdiction, and a department for liaison work.
    jurisdiction_code: Mapped[str] = mapped_column(String(20), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)  # None: offered to the queue
    claimed_at: Mapped[datetime | None]
    delegated_from: Mapped[str | None] = mapped_column(String(64))  # AB岗: A handed it to B
    deadline: Mapped[str | None] = mapped_column(String(32))  # "30 日"
    created_at: Mapped[datetime]
    warn_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    warned_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    paused_at: Mapped[datetime | None]  # the clock is stopped (鉴定, 听证 …) since then
    pause_reason: Mapped[str | None] = mapped_column(String(32))
    extensions_granted: Mapped[int] = mapped_column(Integer, default=0)
    paused_timers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # timer task id -> due before the pause
    form_defaults: Mapped[dict[str, Any]] = mapped_column(default=dict)  # task data when it became ready

    __table_args__ = (Index("ix_human_task_inbox", "state", "role", "jurisdiction_code", "due_at"),)


class PendingTimer(Base):
    """Projection of a waiting timer; the scheduler's only query runs over `due_at`."""

    __tablename__ = "pending_timer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str | None] = mapped_column(String(16))  # warning / overdue / escalate / None
    due_at: Mapped[datetime] = mapped_column(index=True)
    started_at: Mapped[datetime]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseEvent(Base):
    """Append-only log: who did what to a case and when, with a copy of the submitted data."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    element_id: Mapped[str | None] = mapped_column(String(128))
    task_id: Mapped[str | None] = mapped_column(String(36))
    summary: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CaseDocument(Base):
    """A generated document (受理告知单, 督办函 …): numbered per jurisdiction, type and year; the
    rendered HTML is kept as issued, so a later template edit never changes an issued document."""

    __tablename__ = "case_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    html: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    element_id: Mapped[str | None] = mapped_column(String(128))
    task_id: Mapped[str | None] = mapped_column(String(36))  # the SpiffWorkflow task that produced it
    created_at: Mapped[datetime]

    __table_args__ = (Index("ux_case_document_task", "case_id", "task_id", "doc_type", unique=True),)


class ExtensionRequest(Base):
    """A handler's request to extend a task's limit, decided by a supervisor (director)."""

    __tablename__ = "extension_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"))
    amount: Mapped[str] = mapped_column(String(32))  # "30 日"
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending / approved / rejected
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(500))


class CalendarOverride(Base):
    """An administrator's ruling on one day (work or rest), consulted before the holiday library.

    `jurisdiction_code` "" rules everywhere; a code rules for that jurisdiction and everything below
    it, and the nearest ruling wins (a county's local holiday over the city's).
    """

    __tablename__ = "calendar_override"

    jurisdiction_code: Mapped[str] = mapped_column(String(20), primary_key=True, default="")
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Jurisdiction(Base):
    """One node of the 行政区划 tree: 省 → 市 → 县/区/旗 → 乡镇/街道 → 村/社区 → 网格.

    A code extends its parent's (150207 → 150207001 → 150207001001), so "everything below" is a
    prefix match in SQL. `center_name` is the 综治中心 / 综治站 that handles cases there; a node
    without one (a grid) hands its cases to the nearest ancestor that has one.
    """

    __tablename__ = "jurisdiction"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # province / city / county / township / village / grid
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdiction.code"), index=True)
    center_name: Mapped[str | None] = mapped_column(String(100))


class Department(Base):
    """A department stationed at a center (入驻部门): 常驻, 轮驻 between rotation dates, or 随驻 on call."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    presence: Mapped[str] = mapped_column(String(16))  # resident / rotating / on_call
    rotation_start: Mapped[date | None] = mapped_column(Date)
    rotation_end: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ux_department_code", "jurisdiction_code", "code", unique=True),)


class RoleGrant(Base):
    """One role a user holds over one jurisdiction (and, for 部门联络员, one department)."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    jurisdiction_code: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))

    __table_args__ = (Index("ux_role_grant", "user_id", "role", "jurisdiction_code", "department_id", unique=True),)


class User(Base):
    """A person who logs in. `jurisdiction_code` is their own unit; what they may do is in `grants`.

    AB岗: `backup_username` names B; while A is absent (`absent_until` in the future) B sees and
    acts on A's claimed tasks, and the record says B acted for A.
    """

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    jurisdiction_code: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    backup_username: Mapped[str | None] = mapped_column(String(64))
    absent_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]

    grants: Mapped[list[RoleGrant]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                   order_by="RoleGrant.id")


class DepartmentTransfer(Base):
    """A cross-department transfer (转办) of a case: asked for by the liaison of the case's department or
    a director, signed off (or not) by the director of the handling center within its limit (2 工作日
    by default). `overdue_at` is set once, by the timer sweep, when the limit passes undecided."""

    __tablename__ = "department_transfer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    from_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    to_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending / approved / rejected
    time_limit: Mapped[str] = mapped_column(String(32))  # "2 工作日", as in force when requested
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    warn_at: Mapped[datetime | None]
    due_at: Mapped[datetime] = mapped_column(index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))
    overdue_at: Mapped[datetime | None]
