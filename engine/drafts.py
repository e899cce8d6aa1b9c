"""Process drafts (流程草稿): a category's files edited in the browser, checked on every save,
compared with the version in force, and published as a new version.

A draft belongs to one category and one level ("" = the base, or a jurisdiction). Several
designers may edit it: every save names the revision it was made on, and a save on top of a newer
one is refused with who saved it and the rejected files, so nothing typed is lost. Publishing goes
through engine/versions.py, so running cases keep their version. A county that wants four eyes
(`designer_four_eyes = true` in its variant.toml, nearest level on the chain wins; a deployment may
override it with a `four_eyes` mapping, which the web app reads from DESIGNER_FOUR_EYES) has a
second designer approve before the version is created; a reviewer may return it with a note instead.

Versions store parsed specs, not text: a published draft keeps the files its version was made
from (`ProcessDraft.published_version_id`), and a version published from processes/ is
snapshotted the first time a draft is opened on it while the files still match its hash.

Functions here flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .calendar import SHANGHAI
from .designed_categories import new_category_of, offer
from .draft_compare import Comparison, compare_files
from .draft_files import DraftFileError, check_file_name, draft_tree, effective_files, lint_draft
from .errors import ConflictError, Forbidden, NotFound, NoVersion, VersionError
from .models import ProcessDraft, ProcessVersion
from .problems import Problem
from .registry import ProcessRegistry
from .variant_lookup import ancestors
from .versions import ensure_in_force, in_force, publish

DESIGNER = "designer"  # 流程设计员
STATES = ("draft", "awaiting_approval", "published", "discarded")
MAX_FILE_BYTES = 2_000_000


class DraftConflict(ConflictError):
    """Someone saved the draft after it was opened; `rejected_files` is what this save held."""

    def __init__(self, draft: ProcessDraft, expected_revision: int, rejected_files: dict[str, str]):
        self.draft_id = draft.id
        self.current_revision = draft.revision
        self.expected_revision = expected_revision
        self.saved_by = draft.saved_by
        self.rejected_files = rejected_files
        at = draft.saved_at.astimezone(SHANGHAI)
        super().__init__(f"saved by {draft.saved_by} at {at:%H:%M} after you opened it (revision {draft.revision}); "
                         "reload to see their changes — your edit is kept below")


@dataclass(frozen=True)
class Upload:
    """The draft after an upload and the file's XML syntax problems (empty when it parsed)."""

    draft: ProcessDraft
    problems: list[Problem]


def open_draft(session: Session, registry: ProcessRegistry, category_code: str, jurisdiction_code: str,
               actor: Actor, now: datetime) -> ProcessDraft:
    """A new draft holding the files of the version in force for the jurisdiction ("" = the base).
    Publishes from files first if the category was never published (versions.ensure_in_force)."""
    _require_designer(actor, jurisdiction_code)
    version = ensure_in_force(session, registry, category_code, jurisdiction_code, now)
    files = version_files(session, registry, version)
    note = f"opened on v{version.number}"
    if files is None:
        chain = ancestors(session, version.jurisdiction_code)
        files = effective_files(registry, category_code, chain)[1]
        note += " (its text is not stored; the draft holds what processes/ defines now)"
    draft = ProcessDraft(category_code=category_code, jurisdiction_code=jurisdiction_code, files=files,
                         base_version_id=version.id, revision=1, saved_by=actor.username, saved_at=now,
                         note=note, state="draft")
    draft.problems = _lint(session, registry, draft, files)
    session.add(draft)
    session.flush()
    return draft


def save_draft(session: Session, registry: ProcessRegistry, draft_id: int, files: dict[str, str],
               expected_revision: int, actor: Actor, now: datetime, note: str = "") -> ProcessDraft:
    """Store `files` as the draft's new revision and lint them (problems on `draft.problems`).
    DraftConflict if someone saved after `expected_revision`; nothing is stored then."""
    draft = _locked(session, draft_id)
    _require_designer(actor, draft.jurisdiction_code)
    _require_state(draft, "draft")
    clean = {check_file_name(name): text for name, text in files.items()}
    if draft.revision != expected_revision:
        raise DraftConflict(draft, expected_revision, dict(files))
    draft.files = clean
    draft.revision += 1
    draft.saved_by, draft.saved_at, draft.note = actor.username, now, (note or "").strip()[:500]
    draft.problems = _lint(session, registry, draft, clean)
    session.flush()
    return draft


def upload(session: Session, registry: ProcessRegistry, draft_id: int, file_name: str, content: bytes,
           expected_revision: int, actor: Actor, now: datetime) -> Upload:
    """Add or replace one .bpmn/.dmn file (as made in Camunda Modeler or bpmn.io) and save."""
    name = check_file_name(file_name)
    if len(content) > MAX_FILE_BYTES:
        raise DraftFileError(f"{name} is {len(content)} bytes; a process file is at most {MAX_FILE_BYTES}")
    problems = []
    try:
        etree.fromstring(content)
    except etree.XMLSyntaxError as exc:
        problems.append(Problem(name, exc.lineno, None, f"XML syntax error: {exc.msg}"))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DraftFileError(f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(f"process draft {draft_id} does not exist")
    files = {**draft.files, name: text}
    return Upload(save_draft(session, registry, draft_id, files, expected_revision, actor, now,
                             f"uploaded {name}"), problems)


def download(session: Session, draft_id: int, file_name: str) -> str:
    """The text of one file of the draft."""
    draft = session.get(ProcessDraft, draft_id)
    if draft is None or file_name not in draft.files:
        raise NotFound(f"process draft {draft_id} has no file {file_name!r}")
    return draft.files[file_name]


def compare(session: Session, registry: ProcessRegistry, draft_id: int) -> Comparison:
    """Elements the draft adds, removes and changes against the version in force for its level."""
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(f"process draft {draft_id} does not exist")
    try:
        version = in_force(session, draft.category_code, draft.jurisdiction_code)
    except NoVersion:
        if new_category_of(session, draft.category_code) is None:
            raise
        return compare_files({}, draft.files)  # a new category never published: everything is added
    before = version_files(session, registry, version)
    if before is None:
        raise VersionError(f"the text of v{version.number} in force is not stored; "
                           "compare with processes/ or restore a version that has it")
    return compare_files(before, draft.files)


def restore_as_draft(session: Session, registry: ProcessRegistry, version_id: int, actor: Actor,
                     now: datetime) -> ProcessDraft:
    """A new draft of a version's level holding that version's files (any version of the history)."""
    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(f"process version {version_id} does not exist")
    _require_designer(actor, version.jurisdiction_code)
    files = version_files(session, registry, version)
    if files is None:
        raise VersionError(f"the text of {version.category_code} v{version.number} is not stored: it was published "
                           "from processes/ files that have changed since; restore it from version control")
    draft = ProcessDraft(category_code=version.category_code, jurisdiction_code=version.jurisdiction_code,
                         files=dict(files), base_version_id=version.id, revision=1, saved_by=actor.username,
                         saved_at=now, note=f"restored from v{version.number}", state="draft")
    draft.problems = _lint(session, registry, draft, draft.files)
    session.add(draft)
    session.flush()
    return draft


def publish_draft(session: Session, registry: ProcessRegistry, draft_id: int, actor: Actor, now: datetime,
                  reason: str, four_eyes: Mapping[str, bool] | None = None) -> ProcessDraft:
    """Publish the draft as the new version of its level — or, where `four_eyes` asks for it, submit
    it for approval by a second designer (state awaiting_approval). Refuses a draft with errors
    or one that changes nothing. Returns the draft; `published_version_id` names the version."""
    draft = _locked(session, draft_id)
    _require_designer(actor, draft.jurisdiction_code)
    _require_state(draft, "draft")
    reason = (reason or "").strip()
    if not reason:
        raise VersionError("publishing a draft needs a reason (发布说明)")
    _require_publishable(session, registry, draft)
    draft.submitted_by, draft.submitted_at, draft.submit_reason = actor.username, now, reason[:500]
    if needs_approval(session, four_eyes, draft.jurisdiction_code, registry):
        draft.state = "awaiting_approval"
        session.flush()
        return draft
    return _publish(session, registry, draft, actor.username, reason, now)


def approve_draft(session: Session, registry: ProcessRegistry, draft_id: int, approver: Actor,
                  now: datetime) -> ProcessDraft:
    """A second designer approves a submitted draft, which publishes it. The submitter cannot."""
    draft = _locked(session, draft_id)
    _require_designer(approver, draft.jurisdiction_code)
    _require_state(draft, "awaiting_approval")
    if approver.username == draft.submitted_by:
        raise Forbidden(f"{approver.username} submitted this draft; a second designer (流程设计员) must approve it")
    _require_publishable(session, registry, draft)
    draft.approved_by, draft.approved_at = approver.username, now
    reason = f"{draft.submit_reason}（{approver.username} 审核）"
    return _publish(session, registry, draft, draft.submitted_by, reason, now)


def return_draft(session: Session, draft_id: int, actor: Actor, now: datetime, note: str = "") -> ProcessDraft:
    """Send a submitted draft back to editing: a reviewer's no, with a `note` for its author saying
    what to change (required), or the submitter withdrawing it (note optional). The note is kept on
    the draft (`return_note`, `returned_by`, `returned_at`) until another reviewer returns it."""
    draft = _locked(session, draft_id)
    _require_designer(actor, draft.jurisdiction_code)
    _require_state(draft, "awaiting_approval")
    note = (note or "").strip()
    withdrawing = actor.username == draft.submitted_by
    if not note and not withdrawing:
        raise VersionError(f"returning draft {draft.id} to {draft.submitted_by} needs a note (退回意见) "
                           "saying what to change")
    draft.state = "draft"
    if note:
        draft.returned_by, draft.returned_at, draft.return_note = actor.username, now, note[:500]
    session.flush()
    return draft


def discard_draft(session: Session, draft_id: int, actor: Actor) -> ProcessDraft:
    """Give a draft up; it stays in the table, marked discarded."""
    draft = _locked(session, draft_id)
    _require_designer(actor, draft.jurisdiction_code)
    _require_state(draft, "draft", "awaiting_approval")
    draft.state = "discarded"
    session.flush()
    return draft


def drafts_of(session: Session, category_code: str, jurisdiction_code: str,
              states: tuple[str, ...] = ("draft", "awaiting_approval")) -> list[ProcessDraft]:
    """The category's drafts at one level, newest save first."""
    return list(session.scalars(select(ProcessDraft).where(
        ProcessDraft.category_code == category_code, ProcessDraft.jurisdiction_code == jurisdiction_code,
        ProcessDraft.state.in_(states)).order_by(ProcessDraft.saved_at.desc(), ProcessDraft.id.desc())))


def version_files(session: Session, registry: ProcessRegistry, version: ProcessVersion) -> dict[str, str] | None:
    """The files a version was made from: kept by the draft that published it, or — for a version
    published from processes/ — read from the files while they still hash the same (and then kept).
    None when neither is possible."""
    kept = session.scalars(select(ProcessDraft).where(ProcessDraft.published_version_id == version.id)
                           .order_by(ProcessDraft.id).limit(1)).first()
    if kept is not None:
        return dict(kept.files)
    try:
        spec_hash, files = effective_files(registry, version.category_code, ancestors(session, version.jurisdiction_code))
    except Exception:  # noqa: BLE001 — a category broken in processes/ now: the text is simply not available
        return None
    if spec_hash != version.spec_hash:
        return None
    session.add(ProcessDraft(category_code=version.category_code, jurisdiction_code=version.jurisdiction_code,
                             files=files, base_version_id=version.id, revision=1, saved_by=version.published_by,
                             saved_at=version.published_at, note=f"text of v{version.number} as published from processes/",
                             problems=[], state="published", published_version_id=version.id))
    session.flush()
    return dict(files)


def needs_approval(session: Session, four_eyes: Mapping[str, bool] | None, jurisdiction_code: str,
                   registry: ProcessRegistry | None = None) -> bool:
    """Whether publishing at the jurisdiction needs a second designer.

    The deployment's `four_eyes` mapping (jurisdiction code -> bool) decides if it names any level of
    the jurisdiction's chain, the nearest one; otherwise `designer_four_eyes` of the nearest variant
    on the chain that sets it (processes/variants/<code>/variant.toml, read from `registry`); else no."""
    chain = ancestors(session, jurisdiction_code)
    for code in chain:
        if four_eyes and code in four_eyes:
            return bool(four_eyes[code])
    if registry is not None:
        return bool(registry.variants.four_eyes(chain))
    return False


def may_design(actor: Actor, jurisdiction_code: str) -> bool:
    """Whether the actor holds the designer (流程设计员) role over the level ("" = the base)."""
    return any(grant.role == DESIGNER and grant.covers(jurisdiction_code) for grant in actor.grants)


def problem_dicts(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as stored on a draft and sent to the browser."""
    return [{"file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message,
             "severity": p.severity} for p in problems]


# -- helpers -------------------------------------------------------------------------------------

def _publish(session: Session, registry: ProcessRegistry, draft: ProcessDraft, publisher: str, reason: str,
             now: datetime) -> ProcessDraft:
    chain = ancestors(session, draft.jurisdiction_code)
    designed = new_category_of(session, draft.category_code)
    with draft_tree(registry, draft.category_code, chain, draft.files, designed) as tree:
        # A category created for a county is that county's own: it needs no variant folder there.
        version = publish(session, tree.registry, draft.category_code, draft.jurisdiction_code, publisher, reason,
                          "designer", now=now, own_category=designed is not None)
        if designed is not None:
            offer(session, registry, designed, tree.registry.category(designed.code).bundle)
    draft.state, draft.published_version_id = "published", version.id
    session.flush()
    return draft


def _require_publishable(session: Session, registry: ProcessRegistry, draft: ProcessDraft) -> None:
    problems = lint_draft(registry, draft.category_code, ancestors(session, draft.jurisdiction_code), draft.files,
                          new_category_of(session, draft.category_code))
    draft.problems = problem_dicts(problems)
    errors = [p for p in problems if p.is_error]
    if errors:
        shown = "; ".join(str(p) for p in errors[:3])
        more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
        raise VersionError(f"the draft has {len(errors)} error(s); fix them before publishing: {shown}{more}")
    try:
        current = in_force(session, draft.category_code, draft.jurisdiction_code)
    except Exception:  # noqa: BLE001 — nothing in force: anything is a change
        return
    if version_files(session, registry, current) == draft.files:
        raise VersionError(f"the draft does not change v{current.number} in force; nothing to publish")


def _lint(session: Session, registry: ProcessRegistry, draft: ProcessDraft, files: dict[str, str]) -> list[dict]:
    return problem_dicts(lint_draft(registry, draft.category_code, ancestors(session, draft.jurisdiction_code), files,
                                    new_category_of(session, draft.category_code)))


def _require_designer(actor: Actor, jurisdiction_code: str) -> None:
    if not may_design(actor, jurisdiction_code):
        where = jurisdiction_code or "the base (基础版本)"
        raise Forbidden(f"editing and publishing processes of {where} needs the designer (流程设计员) role there")


def _require_state(draft: ProcessDraft, *states: str) -> None:
    if draft.state not in states:
        raise VersionError(f"draft {draft.id} is {draft.state}; this needs a draft that is {' or '.join(states)}")


def _locked(session: Session, draft_id: int) -> ProcessDraft:
    draft = session.execute(select(ProcessDraft).where(ProcessDraft.id == draft_id).with_for_update()).scalar_one_or_none()
    if draft is None:
        raise NotFound(f"process draft {draft_id} does not exist")
    return draft
