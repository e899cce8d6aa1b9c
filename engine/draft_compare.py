"""What a draft changes against another set of files: BPMN elements added, removed and changed.

Elements are matched by BPMN id across the category's .bpmn files (ids are unique within a
category, engine/registry.py). For each element the comparison looks at what shapes a case: its
type, name, Fengqiao properties (form, role, deadline, …), condition expression, timer definition,
called process or decision and script. Diagram layout is left out: moving a shape changes nothing
a case does. DMN files are compared as whole files.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from . import lint

TIMER_CHILDREN = ("timeDate", "timeDuration", "timeCycle")


@dataclass(frozen=True)
class ElementChange:
    """One element added, removed or changed; `changes` maps an aspect to (before, after)."""

    element_id: str
    file: str
    type: str  # userTask, sequenceFlow, …
    name: str
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass
class Comparison:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)  # DMN (or unreadable) files whose text differs

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.files_changed)


def compare_files(before: dict[str, str], after: dict[str, str]) -> Comparison:
    """Compare two sets of category files (file name -> text)."""
    result = Comparison()
    old, old_unreadable = _elements(before)
    new, new_unreadable = _elements(after)
    for element_id in sorted(new.keys() - old.keys()):
        file, aspects = new[element_id]
        result.added.append(ElementChange(element_id, file, aspects["type"], aspects.get("name") or ""))
    for element_id in sorted(old.keys() - new.keys()):
        file, aspects = old[element_id]
        result.removed.append(ElementChange(element_id, file, aspects["type"], aspects.get("name") or ""))
    for element_id in sorted(old.keys() & new.keys()):
        (_, was), (file, now) = old[element_id], new[element_id]
        changes = {key: (was.get(key), now.get(key)) for key in sorted(was.keys() | now.keys())
                   if was.get(key) != now.get(key)}
        if changes:
            result.changed.append(ElementChange(element_id, file, now["type"], now.get("name") or "", changes))
    for name in sorted(before.keys() | after.keys()):
        if (not name.endswith(".bpmn") or name in old_unreadable | new_unreadable) \
                and before.get(name) != after.get(name):
            result.files_changed.append(name)
    return result


def _elements(files: dict[str, str]) -> tuple[dict[str, tuple[str, dict[str, str]]], set[str]]:
    found: dict[str, tuple[str, dict[str, str]]] = {}
    unreadable: set[str] = set()
    for name, text in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(text.encode("utf-8"))
        except etree.XMLSyntaxError:
            unreadable.add(name)
            continue
        for process in root.iter(lint.BPMN + "process"):
            for el in process.iter():
                if not isinstance(el.tag, str) or el is process or not el.get("id") \
                        or etree.QName(el).namespace != lint.NS["bpmn"]:
                    continue
                found[el.get("id")] = (name, _aspects(el))
    return found, unreadable


def _aspects(el) -> dict[str, str]:
    aspects = {"type": etree.QName(el).localname}
    for attr in ("name", "calledElement", "attachedToRef", "sourceRef", "targetRef", "default"):
        if el.get(attr) is not None:
            aspects[attr] = el.get(attr)
    for prop, value in lint.properties(el).items():
        aspects[f"property {prop}"] = value
    condition = el.find("bpmn:conditionExpression", lint.NS)
    if condition is not None:
        aspects["condition"] = (condition.text or "").strip()
    script = el.find("bpmn:script", lint.NS)
    if script is not None:
        aspects["script"] = (script.text or "").strip()
    decision = el.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", lint.NS)
    if decision is not None:
        aspects["calledDecisionId"] = (decision.text or "").strip()
    timer = el.find("bpmn:timerEventDefinition", lint.NS)
    if timer is not None:
        for child in TIMER_CHILDREN:
            node = timer.find(f"bpmn:{child}", lint.NS)
            if node is not None:
                aspects[f"timer {child}"] = (node.text or "").strip()
    return aspects
