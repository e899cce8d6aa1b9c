"""Creating a dispute category in the designer: a new code and name, and a first draft that starts
from an existing category's flow as the designer's jurisdiction runs it (engine/designed_categories.py
explains how such a category lives without a folder in processes/)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .actors import Actor
from .designed_categories import check_new, record, renamed_process
from .draft_files import lint_draft
from .drafts import DESIGNER, problem_dicts, version_files
from .errors import Forbidden, VersionError
from .models import ProcessDraft
from .registry import ProcessRegistry
from .variant_lookup import ancestors
from .versions import ensure_in_force


def create_category(session: Session, registry: ProcessRegistry, code: str, name: str, jurisdiction_code: str,
                    template_code: str, actor: Actor, now: datetime) -> ProcessDraft:
    """Record category `code` for `jurisdiction_code` ("" = everywhere) and open its first draft,
    holding `template_code`'s files with the process renamed. Raises CategoryNameError for a taken
    or malformed code or name, Forbidden without the designer role there, UnknownCategory."""
    if not any(grant.role == DESIGNER and grant.covers(jurisdiction_code) for grant in actor.grants):
        raise Forbidden(f"creating a category for {jurisdiction_code or 'every jurisdiction'} needs the designer "
                        "(流程设计员) role there")
    code, name = check_new(session, registry, code, name)
    template = registry.category(template_code)
    version = ensure_in_force(session, registry, template_code, jurisdiction_code, now)
    files = version_files(session, registry, version)
    if files is None:
        raise VersionError(f"the text of {template.name} v{version.number} is not stored; pick another template")
    intake_form = (version.settings or {}).get("intake_form") or template.intake_form
    designed = record(session, code, name, intake_form, jurisdiction_code, actor, now)
    files = renamed_process(files, template.process_id, designed.process_id, name)
    draft = ProcessDraft(category_code=code, jurisdiction_code=jurisdiction_code, files=files, revision=1,
                         saved_by=actor.username, saved_at=now, state="draft",
                         note=f"new category, started from {template.name} v{version.number}")
    draft.problems = problem_dicts(lint_draft(registry, code, ancestors(session, jurisdiction_code), files, designed))
    session.add(draft)
    session.flush()
    return draft
