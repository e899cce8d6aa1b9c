"""What the case pages show: intake and event data made readable and masked, user names resolved."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select

from engine.documents import case_documents
from engine.errors import NotFound
from engine.channels import CHANNEL_ACTOR_PREFIX
from engine.models import Case, CaseDocument, CaseEvent, Channel, HumanTask, PendingTimer, User

from . import form_render
from .extensions import db
from .masking import mask_data
from .public_status import CITIZEN
from .services import services

SYSTEM_NAME = "系统"


@dataclass(frozen=True)
class TimelineEntry:
    event: CaseEvent
    actor_name: str
    rows: list[tuple[str, str]]  # submitted data, masked and labelled


@dataclass(frozen=True)
class TimerRow:
    timer: PendingTimer
    target_name: str


def schema_of(case: Case, form_name: str | None) -> dict | None:
    """The form's schema as the case's own process version defines it."""
    if not form_name:
        return None
    try:
        return services().runtime.form(db.session, case, form_name).schema
    except NotFound:
        return None  # not part of that version; show the raw field names


def intake_form_name(case: Case) -> str:
    category = services().registry.categories.get(case.category_code)
    return category.intake_form if category else "intake"


def intake_rows(case: Case) -> list[tuple[str, str]]:
    schema = schema_of(case, intake_form_name(case))
    return form_render.describe(schema, mask_data(case.intake or {}))


def source_of(case: Case) -> dict | None:
    """Where a channel's case came from: the channel, its own reference and deadline (None: the window)."""
    if case.channel_id is None:
        return None
    channel = db.session.get(Channel, case.channel_id)
    return {"channel": channel.name if channel else "", "reference": case.source_reference,
            "due_at": case.source_due_at, "warned": case.source_warned_at is not None,
            "overdue": case.source_overdue_at is not None}


def display_names(usernames: Iterable[str | None]) -> dict[str, str]:
    """Username → display name, with the engine's own actor shown as 系统."""
    names = {"system": SYSTEM_NAME, CITIZEN.username: CITIZEN.display_name}  # 群众评价 on the status page
    wanted = {name for name in usernames if name and name not in names}
    channel_codes = {name.split(":", 1)[1]: name for name in wanted if name.startswith(CHANNEL_ACTOR_PREFIX)}
    if channel_codes:  # a channel registered the case (engine/channels.py names it channel:<code>)
        rows = db.session.execute(select(Channel.code, Channel.name).where(Channel.code.in_(channel_codes)))
        names.update({channel_codes[code]: f"{name}（对接渠道）" for code, name in rows})
        wanted -= set(channel_codes.values())
    if wanted:
        rows = db.session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
        names.update({username: display or username for username, display in rows})
    return names


def timeline(case: Case, events: list[CaseEvent], tasks: list[HumanTask]) -> list[TimelineEntry]:
    """The event log, newest last, each with its data labelled by the form it came from."""
    forms_by_task = {task.id: task.form for task in tasks}
    names = display_names(event.actor for event in events)
    entries = []
    for event in events:
        if event.kind == "task_completed":
            schema = schema_of(case, forms_by_task.get(event.task_id))
        elif event.kind in ("case_started", "submission_merged"):  # 合并来件 keeps a whole intake too
            schema = schema_of(case, intake_form_name(case))
        else:
            schema = None
        # Bookkeeping events (task created, timer fired) carry engine details, not user input.
        rows = form_render.describe(schema, mask_data(event.data or {})) if schema else []
        entries.append(TimelineEntry(event, names.get(event.actor, event.actor), rows))
    return entries


def timer_rows(case: Case, timers: list[PendingTimer]) -> list[TimerRow]:
    bundle = services().runtime.bundle(db.session, case)
    rows = []
    for timer in timers:
        target = ""
        if timer.element_id in bundle.timers:
            meta = bundle.timers[timer.element_id]
            if meta.target and meta.target in bundle.tasks:
                target = bundle.tasks[meta.target].name
        rows.append(TimerRow(timer, target))
    return rows


def document_rows(case: Case) -> list[CaseDocument]:
    """The case's issued documents (文书), oldest first."""
    return case_documents(db.session, case)
