"""Database tables: cases and their projections, process specs, calendar overrides, users.

The serialized workflow is stored per case without its spec; specs are stored once per content hash.
Everything the UI and the scheduler query (tasks, timers, status) is a plain column here, so no query
ever needs to deserialize a workflow.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, TypeDecorator, text,
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
    # Intake channels (engine/channels.py): the system that sent the case and its own reference
    # (工单号 / 警情号 / 案号 / 信访件号); None for a case registered at the window.
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id"), index=True)
    source_reference: Mapped[str | None] = mapped_column(String(100))
    # The source's own deadline: the earlier of it and the node's limit drives warnings
    # (engine/source_deadline.py); set once each when the sweep warned / found it overdue.
    source_due_at: Mapped[datetime | None]
    source_warn_at: Mapped[datetime | None] = mapped_column(index=True)
    source_warned_at: Mapped[datetime | None]
    source_overdue_at: Mapped[datetime | None]
    # 是否重复: a repeat complaint linked to an earlier case by the clerk (engine/duplicates.py).
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # What the cockpit counts (engine/cockpit_metrics.py), kept by the projection on every run so no
    # statistic ever reads a workflow: the intake channel (来源渠道), how the case ended, the
    # citizen's satisfaction at 回访, 二次督办 rounds, the agreement, whether it was performed, and
    # the nearest warning and due time of its open tasks (临期 without a join).
    intake_channel: Mapped[str | None] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(16))  # resolved / unresolved / rejected; None while open
    referred_out: Mapped[bool] = mapped_column(Boolean, default=False)  # 告知诉讼、仲裁等途径 (legal_route)
    satisfaction: Mapped[str | None] = mapped_column(String(24))  # satisfied / basically_satisfied / dissatisfied
    second_supervision_count: Mapped[int] = mapped_column(Integer, default=0)
    agreement_amount: Mapped[float | None] = mapped_column(Numeric(14, 2))
    performed: Mapped[bool | None] = mapped_column(Boolean)  # 协议履行 checked: True / False; None: not checked
    next_warn_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_case_created", "created_at"),
        Index("ix_case_closed", "closed_at"),
        Index("ix_case_open_due", "status", "next_due_at"),
        # Prefix matches (jurisdiction_code LIKE '1502%') use these on PostgreSQL whatever the collation.
        Index("ix_case_jurisdiction_prefix", "jurisdiction_code", "created_at",
              postgresql_ops={"jurisdiction_code": "varchar_pattern_ops"}),
        Index("ix_case_handling_prefix", "handling_jurisdiction_code",
              postgresql_ops={"handling_jurisdiction_code": "varchar_pattern_ops"}),
        # Who may read a case, by id, without reading the row: the cockpit joins tens of thousands of
        # tasks to their cases for the access check (engine/cockpit_timers.py, cockpit_heatmap.py).
        Index("ix_case_access", "id", postgresql_include=["jurisdiction_code", "handling_jurisdiction_code",
                                                          "department_id", "status"]),
        Index("ix_case_open_access", "id", postgresql_include=["jurisdiction_code", "handling_jurisdiction_code",
                                                               "department_id"],
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        # The board's "now" counts (在办, 超期, 临期) by every dimension, read index-only from the open
        # cases alone (engine/cockpit_board.py); status is included because the counts' CASE WHENs name it.
        # PostgreSQL only: SQLite has no INCLUDE, and a single center's cases need no such index.
        Index("ix_case_open_board", "id", postgresql_include=[
            "jurisdiction_code", "handling_jurisdiction_code", "category_code", "handling_level", "department_id",
            "intake_channel", "risk_color", "next_due_at", "next_warn_at", "is_overdue", "status"],
              postgresql_where=text("status = 'open'")).ddl_if(dialect="postgresql"),
    )


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

    category_code: Mapped[str | None] = mapped_column(String(64))  # the case's, for node statistics without a join

    __table_args__ = (Index("ix_human_task_inbox", "state", "role", "jurisdiction_code", "due_at"),
                      Index("ix_human_task_open_due", "state", "due_at"),
                      # The cockpit's heatmap and node-timer counts read these without touching the table
                      # (index-only scans; bench/bench_cockpit.py): completed tasks by category and time,
                      # and the open tasks, a small partial index.
                      Index("ix_human_task_node_time", "category_code", "completed_at",
                            postgresql_include=["element_id", "created_at", "case_id", "jurisdiction_code", "state"]),
                      Index("ix_human_task_ready", "category_code", "case_id",
                            postgresql_include=["element_id", "jurisdiction_code", "role", "due_at", "warn_at",
                                                "overdue_at", "paused_at", "created_at"],
                            postgresql_where=text("state = 'ready'"), sqlite_where=text("state = 'ready'")))


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


class Channel(Base):
    """An external system that sends cases in and hears results back (12345, 110, 法院, 信访, 网格 app,
    another level's center). `kind` is the intake form's `channel` value the cases it sends carry.

    The callback secret signs notifications (HMAC-SHA256); unlike a token it must be kept readable,
    since the server has to compute the signature with it.
    """

    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    callback_url: Mapped[str | None] = mapped_column(String(500))
    callback_secret: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ChannelToken(Base):
    """A channel's credential for one jurisdiction (and below). Only a SHA-256 of the token is kept;
    the token itself is shown once, when issued. A revoked token is refused from then on."""

    __tablename__ = "channel_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to tell tokens apart in lists
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class ChannelSubmission(Base):
    """One channel reference and the case it created: re-sending the reference returns that case.

    The unique index is the idempotency guarantee: of two concurrent first sends, the second insert
    waits for the first transaction and then fails, and the API answers with the first one's case.
    """

    __tablename__ = "channel_submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    reference: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    token_id: Mapped[int] = mapped_column(ForeignKey("channel_token.id"))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ux_channel_submission", "channel_id", "reference", unique=True),)


class ChannelNotification(Base):
    """A result to tell a channel (outbox): written in the transaction that reached the result, then
    delivered to the channel's callback URL by engine/callbacks.py, retried with backoff until the
    receiver acknowledges it. Never deleted; per case they are delivered in `sequence` order."""

    __tablename__ = "channel_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # 1, 2, … per case
    result: Mapped[str] = mapped_column(String(16))  # accepted / returned / dispatched / concluded
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending / delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (Index("ux_channel_notification_seq", "case_id", "sequence", unique=True),)


class Attachment(Base):
    """A file attached to a case (a grid worker's photo …). The bytes live on disk outside the
    database, under their SHA-256; the row keeps name, type, size and checksum."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


class CaseLink(Base):
    """The clerk's decision that two cases concern the same dispute: `repeat` (a repeat complaint,
    linked to the earlier case) or `merged` (the later submission folded into the earlier case)."""

    __tablename__ = "case_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)  # the later one
    earlier_case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # repeat / merged
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ux_case_link", "case_id", "earlier_case_id", unique=True),)


class CaseMatchKey(Base):
    """One identifying value of a case's intake (applicant phone, ID number, address, the two
    parties' names), normalised and hashed, so finding likely duplicates is an indexed lookup
    instead of a scan of the intake JSON (engine/duplicates.py explains why a table of its own)."""

    __tablename__ = "case_match_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # phone / id_number / address / parties
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the normalised value

    __table_args__ = (Index("ix_case_match_key_lookup", "kind", "digest"),
                      Index("ux_case_match_key", "case_id", "kind", unique=True))


class LedgerImport(Base):
    """One 台账 spreadsheet import: validated in full first, then imported all or nothing; `done`
    counts rows imported so far so a long file shows progress."""

    __tablename__ = "ledger_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    jurisdiction_code: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(16))  # validating / invalid / importing / done / failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class DesignedCategory(Base):
    """A dispute category created in the browser designer rather than in processes/.

    Its files live in drafts (engine/drafts.py) and its definitions in published versions; this row
    holds what category.toml holds for a category of processes/, and the level it was created for:
    a county's own category is offered only there and below (engine/designed_categories.py).
    """

    __tablename__ = "designed_category"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    process_id: Mapped[str] = mapped_column(String(64))
    intake_form: Mapped[str] = mapped_column(String(64), default="intake")
    jurisdiction_code: Mapped[str] = mapped_column(String(20), default="")  # "" = every jurisdiction
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ProcessDraft(Base):
    """A category's BPMN and DMN files as a designer edits them in the browser (engine/drafts.py).

    `revision` counts saves, so a save on top of someone else's newer one is refused instead of
    overwriting it. Once published the row keeps the files the version was made from
    (`published_version_id`): versions themselves store only parsed specs, and this is how any
    version can be opened, compared and restored as text again.
    """

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(64))
    jurisdiction_code: Mapped[str] = mapped_column(String(20), default="")  # "" = the base
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)  # file name -> XML text (.bpmn, .dmn)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(500), default="")
    problems: Mapped[list[Any]] = mapped_column(default=list)  # [{file, line, element_id, message, severity}]
    state: Mapped[str] = mapped_column(String(20), default="draft")  # draft / awaiting_approval / published / discarded
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    submit_reason: Mapped[str | None] = mapped_column(String(500))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    # The last 退回修改 and its note (退回意见), so the draft's author sees what to change.
    returned_by: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[datetime | None]
    return_note: Mapped[str | None] = mapped_column(String(500))
    published_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"), index=True)

    __table_args__ = (Index("ix_process_draft_category", "category_code", "jurisdiction_code", "state"),)


class SavedView(Base):
    """A named set of cockpit filters (筛选视图), kept by its owner and perhaps shared (engine/saved_views.py).

    `shared_with`: private (the owner only), team (users holding `role` over `jurisdiction_code`, as
    the owner did when saving) or jurisdiction (everyone who reads `jurisdiction_code`). `params` are
    the page's query parameters, so opening the view is a link.
    """

    __tablename__ = "saved_view"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    shared_with: Mapped[str] = mapped_column(String(16), default="private")
    jurisdiction_code: Mapped[str] = mapped_column(String(20), index=True)
    role: Mapped[str] = mapped_column(String(32))
    page: Mapped[str] = mapped_column(String(16))  # cockpit / cases / timers / performance
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class RollupCounts:
    """The keys and counts a rollup row shares at either grain (engine/case_rollup.py)."""

    reg_county: Mapped[str] = mapped_column(String(6), primary_key=True)
    handling_county: Mapped[str] = mapped_column(String(6), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)  # category … risk, or "total"
    value: Mapped[str] = mapped_column(String(64), primary_key=True)  # "-" not set; "" for total
    received: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    absorbed: Mapped[int] = mapped_column(Integer, default=0)
    surveyed: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    second_supervision: Mapped[int] = mapped_column(Integer, default=0)
    performance_checked: Mapped[int] = mapped_column(Integer, default=0)
    performed: Mapped[int] = mapped_column(Integer, default=0)


class CaseMonthStat(RollupCounts, Base):
    """Monthly rollup of the in-period cockpit counts (engine/case_rollup.py keeps it in step with
    `case`): one row per Beijing month, registering and handling county, and dimension value, so a
    province's board sums a few thousand rows instead of scanning a million cases."""

    __tablename__ = "case_month_stat"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day, Beijing


class CaseDayStat(RollupCounts, Base):
    """The same rollup per Beijing day, for the parts of a period that are not whole months (a week,
    a range from the 10th): a week sums seven days' rows instead of scanning the week's cases."""

    __tablename__ = "case_day_stat"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


class Notice(Base):
    """站内通知: a message to one user (日提醒, 周督办 …) with the tasks it is about as items.

    Unique per (recipient, kind, period) — the day "2026-03-02" or ISO week "2026-W10" — so a periodic
    job that runs every minute makes each notice once (engine/digests.py).
    """

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # daily_digest / weekly_supervision
    jurisdiction_code: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    # [{task_id, case_id, case_code, node, due_at (ISO), state, claimed_by}], most urgent first
    items: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    __table_args__ = (Index("ux_notice_period", "recipient", "kind", "period", unique=True),
                      Index("ix_notice_inbox", "recipient", "created_at"))


class AnalysisMeeting(Base):
    """A recurring 研判 meeting (村周研判、镇月研判, engine/analysis_meetings.py): the open cases of one
    place at the start of a week or month, to be judged once by the place's analysts.

    Unique per (place, period, period start), so the job that runs every minute makes each one once.
    """

    __tablename__ = "analysis_meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(16))  # village / township / county
    every: Mapped[str] = mapped_column(String(8))  # week / month
    period_start: Mapped[date] = mapped_column(Date)  # the Monday or the 1st, Beijing
    title: Mapped[str] = mapped_column(String(200))
    case_ids: Mapped[list[Any]] = mapped_column(default=list)  # the open cases gathered, by id
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="open")  # open / completed
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(64))
    minutes: Mapped[str | None] = mapped_column(Text)
    opinions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # case id (text) -> 研判意见

    __table_args__ = (Index("ux_analysis_meeting_period", "jurisdiction_code", "every", "period_start", unique=True),
                      Index("ix_analysis_meeting_open", "state", "jurisdiction_code"))
