"""The BPMN diagram of a published version, as the read-only viewers (流程热力图, a case's 流程图) show it:
the text of the file that defines the category's process and the names of its user tasks.

Versions keep parsed specs, not text; engine/drafts.version_files gives the text where it is still
stored. It may keep a snapshot of a version published from processes/ (so the text outlives a later
change of the files); version_diagram commits then, and only then, so a page reading it keeps what it
loaded unexpired.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from lxml import etree
from sqlalchemy import select

from engine.draft_elements import draft_elements
from engine.drafts import version_files
from engine.lint import defined_process_ids
from engine.models import ProcessDraft, ProcessVersion

from .extensions import db
from .services import services

VIEWER_BUNDLE = "bpmn-navigated-viewer.production.min.js"


@dataclass(frozen=True)
class Diagram:
    """The main .bpmn of a version: its file name, its text and its user tasks (id → name), in file order."""

    file_name: str
    xml: str
    user_tasks: dict[str, str]


def version_diagram(version: ProcessVersion, process_id: str | None) -> Diagram | None:
    """The file of `version` defining `process_id` (the category's process) — or, when no file names it,
    the only .bpmn file. None when the version's text is not stored or no single file can be chosen."""
    kept = db.session.scalar(select(ProcessDraft.id).where(ProcessDraft.published_version_id == version.id).limit(1))
    files = version_files(db.session, services().registry, version)
    if files and kept is None:
        db.session.commit()  # the snapshot version_files just took
    if not files:
        return None
    bpmn = {name: text for name, text in files.items() if name.endswith(".bpmn")}
    chosen = [name for name, text in bpmn.items() if process_id and process_id in _process_ids(text)]
    if not chosen and len(bpmn) == 1:
        chosen = list(bpmn)
    if len(chosen) != 1:
        return None
    name = chosen[0]
    tasks = {element.element_id: element.name or element.element_id
             for element in draft_elements({name: bpmn[name]}) if element.type == "userTask"}
    return Diagram(name, bpmn[name], tasks)


def _process_ids(text: str) -> set[str]:
    try:
        return defined_process_ids(etree.fromstring(text.encode("utf-8")))
    except etree.XMLSyntaxError:
        return set()


def viewer_ready() -> bool:
    """Whether bpmn-js's viewer bundle is installed (scripts/setup.sh); without it the pages show tables only."""
    from .designer import PACKAGE_DIR  # the vendor route and its folder live with the designer

    root = Path(current_app.config.get("DESIGNER_NODE_MODULES") or PACKAGE_DIR / "node_modules")
    return (root / "bpmn-js" / "dist" / VIEWER_BUNDLE).is_file()
