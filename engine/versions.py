"""Published process versions: immutable, numbered per category and jurisdiction, with who, when, why.

A version names a content hash (its parsed specs and forms are stored once in `process_spec`) and
the level it was published for: "" (the base) or a jurisdiction with a variant in
processes/variants/. The version in force for a jurisdiction is the newest one not withdrawn at the
nearest level on its chain (engine/variant_lookup.py). New cases take that version; running cases
keep theirs (engine/migration.py moves one explicitly). Rolling back withdraws the newest version
of a level, so the one before it — or the level above — is in force again.

Functions here flush; the caller commits (except `sync_at_startup` and `ensure_in_force`, which
are whole steps of their own).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .bundle import ProcessBundle
from .errors import NoVersion, NotFound, VersionError
from .models import Jurisdiction, ProcessSpec, ProcessVersion
from .registry import ProcessRegistry
from .serialization import WorkflowCodec
from .variant_lookup import BASE, ancestors
from .variants import Definition, VariantError

log = logging.getLogger(__name__)

SOURCES = ("files", "designer", "rollback")
SYSTEM_NAME = "system"
SYNC_REASON = "processes/ 文件更新"
BASE_LABEL = "基础版本"

_codec: WorkflowCodec | None = None


@dataclass(frozen=True)
class InForce:
    """What a jurisdiction runs for one category: the version and where it comes from."""

    category_code: str
    category_name: str
    version: ProcessVersion | None  # None: never published
    source_label: str  # 基础版本, or "150202 东河区"
    files_hash: str | None  # what processes/ defines for the jurisdiction now (None: broken)

    @property
    def files_differ(self) -> bool:
        """processes/ now says something else than the version in force (not published yet, or rolled back)."""
        return self.files_hash is not None and (self.version is None or self.version.spec_hash != self.files_hash)


def publish(session: Session, registry: ProcessRegistry, category_code: str, jurisdiction_code: str,
            actor_name: str, reason: str, source: str = "files", *, now: datetime | None = None,
            codec: WorkflowCodec | None = None, own_category: bool = False) -> ProcessVersion:
    """Publish the category as processes/ defines it for `jurisdiction_code` ("" = the base).

    Creates version n+1 of that (category, jurisdiction) — unless its newest version in force has
    the same content, which is then returned unchanged. Raises UnknownCategory, VersionError
    (no reason, a jurisdiction without a variant of its own, a variant that no longer fits).
    `own_category`: the category was created for `jurisdiction_code` in the designer, so it is that
    level's own without a variant folder.
    """
    reason = (reason or "").strip()
    if not reason:
        raise VersionError("publishing a version needs a reason (发布说明)")
    if source not in SOURCES:
        raise VersionError(f"source {source!r} is unknown; use one of {', '.join(SOURCES)}")
    if not actor_name:
        raise VersionError("publishing a version needs the name of who publishes it")
    chain = ancestors(session, jurisdiction_code)
    definition = _definition(registry, category_code, chain)
    if jurisdiction_code and not own_category \
            and _latest(session, category_code, jurisdiction_code, withdrawn=True) is None \
            and not registry.variants.defines(category_code, chain):
        where = _defining_level(registry, category_code, chain)
        raise VersionError(
            f"{jurisdiction_code} has no variant of {category_code} of its own in processes/variants/; "
            f"its cases use the definition of {label(session, registry, where)}")
    current = _latest(session, category_code, jurisdiction_code, withdrawn=False)
    if current is not None and current.spec_hash == definition.hash:
        return current
    now = now or datetime.now(timezone.utc)
    try:
        bundle = definition.bundle()
    except VariantError as exc:
        raise VersionError(str(exc)) from None
    store_spec(session, category_code, bundle, now, codec)
    row = ProcessVersion(
        category_code=category_code, jurisdiction_code=jurisdiction_code,
        number=_next_number(session, category_code, jurisdiction_code), spec_hash=definition.hash,
        category_name=definition.name, source=source, published_by=actor_name, published_at=now,
        reason=reason[:500], settings=definition.settings,
    )
    session.add(row)
    session.flush()
    log.debug("published %s v%d for %s (%s) by %s", category_code, row.number, jurisdiction_code or "base",
              definition.hash[:12], actor_name)
    return row


def sync_from_files(session: Session, registry: ProcessRegistry, now: datetime,
                    codec: WorkflowCodec | None = None) -> list[ProcessVersion]:
    """Publish, for the base and every variant, what processes/ now defines where it differs from the
    newest version published from files there — withdrawn ones included, so a restart does not undo
    a rollback. By "system", reason "processes/ 文件更新". Returns the new versions."""
    published = []
    for category_code in sorted(registry.categories):
        published += sync_category(session, registry, category_code, now, codec)
    if published:
        log.info("published %d new version(s) from processes/: %s", len(published),
                 ", ".join(f"{v.category_code}@{v.jurisdiction_code or 'base'} v{v.number}" for v in published))
    return published


def sync_category(session: Session, registry: ProcessRegistry, category_code: str, now: datetime,
                  codec: WorkflowCodec | None = None) -> list[ProcessVersion]:
    """`sync_from_files` for one category."""
    published = []
    category = registry.categories.get(category_code)
    if category is not None and category.designed:
        return published  # made in the designer: there are no files to sync from
    for level in [BASE, *sorted(registry.variants.variants, key=lambda code: (len(code), code))]:
        chain = ancestors(session, level)
        try:
            definition = registry.variants.resolve(category_code, chain)
        except VariantError as exc:
            log.warning("%s for %s not synced: %s", category_code, level or "base", exc)
            continue
        last_from_files = _latest(session, category_code, level, withdrawn=True, source="files")
        if last_from_files is None and level and _latest(session, category_code, level, withdrawn=True) is None \
                and not registry.variants.defines(category_code, chain):
            continue  # the variant leaves this category as its parent has it
        if last_from_files is not None and last_from_files.spec_hash == definition.hash:
            continue
        before = _latest(session, category_code, level, withdrawn=False)
        row = publish(session, registry, category_code, level, SYSTEM_NAME, SYNC_REASON, "files", now=now, codec=codec)
        if before is None or row.id != before.id:
            published.append(row)
    return published


def sync_at_startup(session: Session, registry: ProcessRegistry, now: datetime) -> int:
    """`sync_from_files` and commit; another process starting at the same moment may publish first,
    which is fine. Returns how many versions were published."""
    for attempt in (1, 2):
        try:
            count = len(sync_from_files(session, registry, now))
            session.commit()
            return count
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    return 0


def ensure_in_force(session: Session, registry: ProcessRegistry, category_code: str, jurisdiction_code: str,
                    now: datetime, codec: WorkflowCodec | None = None) -> ProcessVersion:
    """The version in force; if the category was never published (a fresh database that was not
    synced), publish it from files first and commit that."""
    try:
        return in_force(session, category_code, jurisdiction_code)
    except NoVersion:
        pass
    try:
        sync_category(session, registry, category_code, now, codec)
        session.commit()
    except IntegrityError:
        session.rollback()  # published by someone else meanwhile
    return in_force(session, category_code, jurisdiction_code)


def in_force(session: Session, category_code: str, jurisdiction_code: str) -> ProcessVersion:
    """The newest version not withdrawn at the nearest level of the jurisdiction's chain; NoVersion."""
    chain = ancestors(session, jurisdiction_code)
    rows = session.scalars(select(ProcessVersion).where(
        ProcessVersion.category_code == category_code, ProcessVersion.jurisdiction_code.in_(chain),
        ProcessVersion.withdrawn_at.is_(None))).all()
    if not rows:
        raise NoVersion(f"no version of category {category_code!r} is published for {jurisdiction_code or 'the base'} "
                        "or above it; run `fengqiao sync-versions` or `fengqiao publish`")
    rank = {code: index for index, code in enumerate(chain)}
    return min(rows, key=lambda row: (rank[row.jurisdiction_code], -row.number))


def rollback(session: Session, version_id: int, actor_name: str, reason: str, *,
             now: datetime | None = None) -> ProcessVersion:
    """Withdraw version `version_id` (the newest in force of its level) so the one before it — or the
    level above — is in force again. Returns the withdrawn version. Running cases keep their version."""
    reason = (reason or "").strip()
    if not reason:
        raise VersionError("rolling back needs a reason (回退原因)")
    row = session.execute(select(ProcessVersion).where(ProcessVersion.id == version_id)
                          .with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(f"process version {version_id} does not exist")
    where = f"{row.category_code} v{row.number} ({row.jurisdiction_code or 'base'})"
    if row.withdrawn_at is not None:
        raise VersionError(f"{where} was already rolled back on {row.withdrawn_at:%Y-%m-%d} by {row.withdrawn_by}")
    newest = _latest(session, row.category_code, row.jurisdiction_code, withdrawn=False)
    if newest is not None and newest.id != row.id:
        raise VersionError(f"{where} is not the newest version of its level: roll back v{newest.number} first")
    if row.jurisdiction_code == BASE:
        others = session.scalar(select(func.count()).select_from(ProcessVersion).where(
            ProcessVersion.category_code == row.category_code, ProcessVersion.jurisdiction_code == BASE,
            ProcessVersion.withdrawn_at.is_(None), ProcessVersion.id != row.id))
        if not others:
            raise VersionError(f"{where} is the only base version of {row.category_code}: nothing to roll back to; "
                               "publish a corrected version instead")
    row.withdrawn_at = now or datetime.now(timezone.utc)
    row.withdrawn_by, row.withdrawn_reason = actor_name, reason[:500]
    session.flush()
    log.info("rolled back %s by %s: %s", where, actor_name, reason)
    return row


def history(session: Session, category_code: str, jurisdiction_code: str, *,
            with_ancestors: bool = False) -> list[ProcessVersion]:
    """Every version of the category at `jurisdiction_code` (with_ancestors: at every level of its
    chain, nearest level first), newest first, withdrawn ones included."""
    levels = ancestors(session, jurisdiction_code) if with_ancestors else [jurisdiction_code]
    rows = session.scalars(select(ProcessVersion).where(
        ProcessVersion.category_code == category_code, ProcessVersion.jurisdiction_code.in_(levels))).all()
    rank = {code: index for index, code in enumerate(levels)}
    return sorted(rows, key=lambda row: (rank[row.jurisdiction_code], -row.number))


def versions_in_force(session: Session, registry: ProcessRegistry, jurisdiction_code: str) -> list[InForce]:
    """For every category (in processes/ or published): the version in force at the jurisdiction."""
    chain = ancestors(session, jurisdiction_code)
    codes = set(registry.categories) | set(session.scalars(select(ProcessVersion.category_code).distinct()))
    result = []
    for code in codes:
        try:
            version = in_force(session, code, jurisdiction_code)
        except NoVersion:
            version = None
        try:
            known = registry.categories.get(code)
            files_hash = registry.variants.resolve(code, chain).hash if known and not known.designed else None
        except VariantError:
            files_hash = None
        category = registry.categories.get(code)
        name = version.category_name if version else (category.name if category else code)
        source = label(session, registry, version.jurisdiction_code) if version else "未发布"
        result.append(InForce(code, name, version, source, files_hash))
    return sorted(result, key=lambda item: (item.category_name, item.category_code))


def label(session: Session | None, registry: ProcessRegistry | None, code: str) -> str:
    """How a level is shown: 基础版本, or the code and the jurisdiction's name (150202 东河区)."""
    if code == BASE:
        return BASE_LABEL
    row = session.get(Jurisdiction, code) if session is not None else None
    name = row.name if row is not None else (registry.variants.name_of(code) if registry is not None else None)
    return f"{code} {name}" if name else code


def store_spec(session: Session, category_code: str, bundle: ProcessBundle, now: datetime,
               codec: WorkflowCodec | None = None) -> None:
    """Store the bundle's specs and forms once per content hash."""
    if session.get(ProcessSpec, bundle.hash) is None:
        session.add(ProcessSpec(hash=bundle.hash, category_code=category_code, process_id=bundle.process_id,
                                spec_json=(codec or _default_codec()).dump_specs(bundle), created_at=now))
        session.flush()


# -- helpers -------------------------------------------------------------------------------------

def _definition(registry: ProcessRegistry, category_code: str, chain: list[str]) -> Definition:
    registry.category(category_code)  # UnknownCategory, with the base's problems
    try:
        return registry.variants.resolve(category_code, chain)
    except VariantError as exc:
        raise VersionError(str(exc)) from None


def _defining_level(registry: ProcessRegistry, category_code: str, chain: list[str]) -> str:
    for index, code in enumerate(chain):
        if registry.variants.defines(category_code, chain[index:]):
            return code
    return BASE


def _latest(session: Session, category_code: str, jurisdiction_code: str, *, withdrawn: bool,
            source: str | None = None) -> ProcessVersion | None:
    query = select(ProcessVersion).where(ProcessVersion.category_code == category_code,
                                         ProcessVersion.jurisdiction_code == jurisdiction_code)
    if not withdrawn:
        query = query.where(ProcessVersion.withdrawn_at.is_(None))
    if source is not None:
        query = query.where(ProcessVersion.source == source)
    return session.scalars(query.order_by(ProcessVersion.number.desc()).limit(1)).first()


def _next_number(session: Session, category_code: str, jurisdiction_code: str) -> int:
    highest = session.scalar(select(func.max(ProcessVersion.number)).where(
        ProcessVersion.category_code == category_code, ProcessVersion.jurisdiction_code == jurisdiction_code))
    return (highest or 0) + 1


def _default_codec() -> WorkflowCodec:
    global _codec
    if _codec is None:
        _codec = WorkflowCodec()
    return _codec
