"""Dispute categories created in the browser designer (一类一流程 for a kind of dispute processes/
does not have yet).

A category of processes/ is a folder; a designed one is a `DesignedCategory` row (what its
category.toml would say) whose files live in drafts and whose definitions are published versions.
Once its first version is published the registry offers it like any other category (`offer`), at
the level it was created for and below (`Category.offered_at`). A process that did not publish it
learns of it from the database: `attach` at start-up and whenever a category code is not known.

`create_category` starts one from an existing category's flow (its version in force where the
designer works), renaming the process so the two never mix. Functions here flush; the caller commits.
"""
from __future__ import annotations

import re
from datetime import datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .bundle import ProcessBundle
from .draft_files import NewCategory
from .errors import NotFound
from .models import DesignedCategory, ProcessSpec, ProcessVersion
from .registry import Category, ProcessRegistry

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,39}")
MAX_NAME = 20
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"


class CategoryNameError(ValueError):
    """A new category's code or name cannot be used; the message says which and why."""


def new_category_of(session: Session, code: str) -> NewCategory | None:
    """What category.toml would say for a designed category; None for a category of processes/."""
    row = session.get(DesignedCategory, code)
    if row is None:
        return None
    return NewCategory(row.code, row.name, row.process_id, row.intake_form)


def check_new(session: Session, registry: ProcessRegistry, code: str, name: str) -> tuple[str, str]:
    """The code and name, stripped, if no category has them; CategoryNameError otherwise."""
    code, name = code.strip(), name.strip()
    if not CODE_PATTERN.fullmatch(code):
        raise CategoryNameError(f"类别代码 {code!r} 无效：以小写字母开头，只含小写字母、数字和下划线，2 至 40 个字符")
    if not name or len(name) > MAX_NAME:
        raise CategoryNameError(f"类别名称应为 1 至 {MAX_NAME} 个字")
    taken = {category.name: category.code for category in registry.categories.values()}
    if code in registry.categories or session.get(DesignedCategory, code) is not None \
            or code in registry.report.broken:
        raise CategoryNameError(f"类别代码 {code} 已被使用")
    same_name = taken.get(name) or session.scalars(
        select(DesignedCategory.code).where(DesignedCategory.name == name)).first()
    if same_name:
        raise CategoryNameError(f"类别名称「{name}」已被类别 {same_name} 使用")
    return code, name


def record(session: Session, code: str, name: str, intake_form: str, jurisdiction_code: str, actor: Actor,
           now: datetime) -> NewCategory:
    """Store the new category's row (checked by `check_new` first) and return what its toml says."""
    row = DesignedCategory(code=code, name=name, process_id=f"{code}_dispute", intake_form=intake_form,
                           jurisdiction_code=jurisdiction_code, created_by=actor.username, created_at=now)
    session.add(row)
    session.flush()
    return NewCategory(row.code, row.name, row.process_id, row.intake_form)


def renamed_process(files: dict[str, str], old_id: str, new_id: str, name: str) -> dict[str, str]:
    """The template's files with its main process renamed (id, diagram references, pool) to the new
    category's; call activities of the library and decisions keep their ids."""
    renamed = {}
    for file_name, text in files.items():
        if not file_name.endswith(".bpmn"):
            renamed[file_name] = text
            continue
        root = etree.fromstring(text.encode("utf-8"))
        found = False
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") == old_id:
                process.set("id", new_id)
                process.set("name", name)
                found = True
        if not found:
            renamed[file_name] = text
            continue
        for element in root.iter(f"{{{BPMN_NS}}}participant", f"{{{BPMNDI_NS}}}BPMNPlane"):
            for attribute in ("processRef", "bpmnElement"):
                if element.get(attribute) == old_id:
                    element.set(attribute, new_id)
        renamed[file_name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return renamed


def offer(session: Session, registry: ProcessRegistry, designed: NewCategory, bundle: ProcessBundle) -> None:
    """Make a designed category with a published version known to `registry`."""
    row = session.get(DesignedCategory, designed.code)
    registry.add_designed(Category(designed.code, designed.name, designed.process_id, None, bundle, (),
                                   designed.intake_form, row.jurisdiction_code if row else ""))


def attach(session: Session, registry: ProcessRegistry, codec) -> int:
    """Offer every designed category that has a published version and `registry` does not know yet
    (another process published it, or this one just started). Returns how many were added."""
    added = 0
    for row in session.scalars(select(DesignedCategory).order_by(DesignedCategory.code)):
        if row.code in registry.designed:
            continue
        version = session.scalars(select(ProcessVersion).where(ProcessVersion.category_code == row.code)
                                  .order_by(ProcessVersion.id.desc()).limit(1)).first()
        if version is None:
            continue  # still a draft: nothing to register cases on
        bundle = registry.bundle(version.spec_hash)
        if bundle is None:
            spec = session.get(ProcessSpec, version.spec_hash)
            if spec is None:
                raise NotFound(f"process definition {version.spec_hash} of {row.code} is not stored")
            bundle = codec.load_specs(spec.hash, spec.process_id, spec.spec_json)
        offer(session, registry, NewCategory(row.code, row.name, row.process_id, row.intake_form), bundle)
        added += 1
    return added
