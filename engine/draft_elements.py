"""What a simulation needs to know of a draft's XML: its flow elements and sequence flows (to say
which were never reached) and the data names its expressions read (to know which answers can
steer a case).

Read with lxml from the files themselves, like engine/lint.py, so the ids and names are the ones
the designer sees on the diagram.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lxml import etree

from .lint import FLOW_NODE_TAGS

# Elements whose text is Python the engine evaluates against the case data.
EXPRESSION_TAGS = {"conditionExpression": "eval", "script": "exec", "timeDate": "eval", "timeDuration": "eval",
                   "timeCycle": "eval", "preScript": "exec", "postScript": "exec"}
DMN_INPUT_TAGS = ("inputExpression",)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class FlowElement:
    """A flow node (task, event, gateway …) or a sequence flow of a draft file."""

    element_id: str
    type: str  # userTask, sequenceFlow, …
    name: str
    file: str
    source: str | None = None  # sequence flows: sourceRef
    target: str | None = None  # sequence flows: targetRef


def draft_elements(files: dict[str, str]) -> list[FlowElement]:
    """Every flow node and sequence flow of the draft's .bpmn files, in file order."""
    found = []
    for name in sorted(files):
        root = _parse(files[name]) if name.endswith(".bpmn") else None
        if root is None:
            continue
        for el in root.iter():
            kind = _local(el)
            element_id = el.get("id") if kind else None
            if not element_id:
                continue
            if kind == "sequenceFlow":
                found.append(FlowElement(element_id, kind, el.get("name") or "", name,
                                         el.get("sourceRef"), el.get("targetRef")))
            elif kind in FLOW_NODE_TAGS:
                found.append(FlowElement(element_id, kind, el.get("name") or "", name))
    return found


def referenced_names(paths: Iterable[Path]) -> set[str]:
    """Names read by the conditions, scripts, timer expressions and DMN inputs of these files."""
    names: set[str] = set()
    for path in paths:
        root = _parse(path.read_text(encoding="utf-8"))
        if root is None:
            continue
        for el in root.iter():
            kind = _local(el)
            if kind in EXPRESSION_TAGS and el.text:
                names |= _names(el.text, EXPRESSION_TAGS[kind])
            elif kind in DMN_INPUT_TAGS:
                names |= {n for text in el.itertext() for n in _names(text, "eval")}
    return names


def _names(source: str, mode: str) -> set[str]:
    try:
        tree = ast.parse(source.strip(), mode=mode)
    except SyntaxError:  # lint reports it; for the purpose here every identifier may be a name
        return set(_IDENTIFIER.findall(source))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _parse(text: str):
    try:
        return etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""
