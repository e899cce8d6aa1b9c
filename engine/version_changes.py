"""What each published version changed (版本变更): the elements it added, removed and changed against
the version before it at the same level, and the draft it was published from.

Versions store parsed specs, not text, so the comparison uses the files engine/drafts.version_files
can still give: those kept by the draft that published a version, or processes/ while it still hashes
like a version published from files. Where either side's text is not stored, the change says so
instead of guessing. Like version_files, this may keep a snapshot of a version's text: the caller
commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .draft_compare import Comparison, compare_files
from .drafts import version_files
from .models import ProcessDraft, ProcessVersion
from .registry import ProcessRegistry
from .versions import history


@dataclass(frozen=True)
class VersionChange:
    """One version against the previous version of its level."""

    version_id: int
    stored: bool  # its files are available, so it can be restored as a draft
    previous_number: int | None  # None: the first version of its level, nothing to compare with
    comparison: Comparison | None  # None when there is nothing to compare or a text is not stored
    missing_text: tuple[int, ...] = ()  # numbers of the versions (this or the previous) whose text is not stored
    draft_id: int | None = None  # the draft a designer published it from
    approved_by: str | None = None  # the second designer, where four eyes applied

    @property
    def first(self) -> bool:
        return self.previous_number is None


def version_changes(session: Session, registry: ProcessRegistry,
                    versions: list[ProcessVersion]) -> dict[int, VersionChange]:
    """For each of `versions` (of one category, any levels): its VersionChange, by version id."""
    texts: dict[int, dict[str, str] | None] = {}

    def text_of(version: ProcessVersion) -> dict[str, str] | None:
        if version.id not in texts:
            texts[version.id] = version_files(session, registry, version)
        return texts[version.id]

    levels: dict[tuple[str, str], list[ProcessVersion]] = {}
    for version in versions:
        key = (version.category_code, version.jurisdiction_code)
        if key not in levels:
            levels[key] = sorted(history(session, *key), key=lambda row: row.number)
    drafts = _publishing_drafts(session, [v.id for v in versions if v.source == "designer"])
    result = {}
    for version in versions:
        level = levels[(version.category_code, version.jurisdiction_code)]
        earlier = [row for row in level if row.number < version.number]
        draft = drafts.get(version.id)
        origin = {"draft_id": draft.id if draft else None, "approved_by": draft.approved_by if draft else None}
        after = text_of(version)
        if not earlier:
            result[version.id] = VersionChange(version.id, after is not None, None, None, **origin)
            continue
        previous = earlier[-1]
        before = text_of(previous)
        missing = tuple(row.number for row, text in ((previous, before), (version, after)) if text is None)
        comparison = compare_files(before, after) if not missing else None
        result[version.id] = VersionChange(version.id, after is not None, previous.number, comparison, missing,
                                           **origin)
    return result


def _publishing_drafts(session: Session, version_ids: list[int]) -> dict[int, ProcessDraft]:
    """The draft each designer-published version came from (the first one naming it)."""
    if not version_ids:
        return {}
    found: dict[int, ProcessDraft] = {}
    for draft in session.scalars(select(ProcessDraft).where(ProcessDraft.published_version_id.in_(version_ids))
                                 .order_by(ProcessDraft.id)):
        found.setdefault(draft.published_version_id, draft)
    return found
