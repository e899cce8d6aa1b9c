"""Four-eyes review of process drafts (流程草稿审核): who may approve, return or discard a draft, and
the drafts waiting for a designer's approval.

The state changes themselves are engine/drafts.py's (approve_draft, return_draft, discard_draft),
which refuse anything these predicates refuse; the predicates exist so the pages show only the
buttons that will work.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .drafts import may_design
from .models import ProcessDraft


def may_approve(actor: Actor, draft: ProcessDraft) -> bool:
    """A designer over the draft's level who did not submit it, while it awaits approval."""
    return (draft.state == "awaiting_approval" and may_design(actor, draft.jurisdiction_code)
            and actor.username != draft.submitted_by)


def may_return(actor: Actor, draft: ProcessDraft) -> bool:
    """A designer over the draft's level (its submitter withdraws it), while it awaits approval."""
    return draft.state == "awaiting_approval" and may_design(actor, draft.jurisdiction_code)


def may_discard(actor: Actor, draft: ProcessDraft) -> bool:
    """A designer over the draft's level, while it is not published or discarded yet."""
    return draft.state in ("draft", "awaiting_approval") and may_design(actor, draft.jurisdiction_code)


def awaiting_review(session: Session, actor: Actor) -> list[ProcessDraft]:
    """Drafts submitted for approval that `actor` may approve (not their own), oldest submission first."""
    rows = session.scalars(select(ProcessDraft).where(ProcessDraft.state == "awaiting_approval")
                           .order_by(ProcessDraft.submitted_at, ProcessDraft.id))
    return [draft for draft in rows if may_approve(actor, draft)]
