"""BPMN element coverage: which flow nodes of processes/ the test run reached.

Every engine run in a test is observed (the runtime's `_run_until_waiting` is wrapped); a flow node
counts as reached once a task of it was READY or COMPLETED (a boundary event: once it fired). At the
end of the session the report is written to `bpmn-coverage.txt` and summarised in the terminal; with
FENGQIAO_BPMN_COVERAGE_STRICT=1 (set by scripts/test.sh on a full run) an unreached element fails
the run.
"""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from lxml import etree
from SpiffWorkflow.util.task import TaskState

import engine.runtime as runtime_module
from engine.draft_simulation import SIMULATING
from engine.lint import FLOW_NODE_TAGS, NS

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "bpmn-coverage.txt"
STRICT_VARIABLE = "FENGQIAO_BPMN_COVERAGE_STRICT"
REACHED_STATES = (TaskState.READY, TaskState.STARTED, TaskState.COMPLETED)

reached: dict[str, set[str]] = defaultdict(set)


def install() -> None:
    """Wrap the runtime's engine loop so every run records the elements its workflow reached."""
    original = runtime_module._run_until_waiting

    def observed(workflow):
        try:
            return original(workflow)
        finally:
            record(workflow)

    runtime_module._run_until_waiting = observed


def record(workflow) -> None:
    if SIMULATING.get():
        return  # a designer's simulation of a draft proves nothing about the tests of processes/
    workflows = [workflow, *getattr(workflow, "subprocesses", {}).values()]
    for wf in workflows:
        process_id = wf.spec.name
        for task in wf.tasks.values():
            element_id = getattr(task.task_spec, "bpmn_id", None)
            if element_id and task.state in REACHED_STATES:
                reached[process_id].add(element_id)


def universe() -> dict[Path, dict[str, list[tuple[str, str, str]]]]:
    """file -> process id -> [(element id, tag, name)] for every flow node in processes/.

    SpiffWorkflow runs an embedded subprocess as a workflow of its own, named after the subProcess
    element (the 联席会议's multi-instance 征求部门意见), so its elements are listed under that id.
    """
    files = {}
    for path in sorted((ROOT / "processes").rglob("*.bpmn")):
        tree = etree.parse(str(path))
        processes = {}
        for process in tree.xpath("//bpmn:process", namespaces=NS):
            processes.setdefault(process.get("id"), [])
            for el in process.iter():
                if isinstance(el.tag, str) and etree.QName(el).localname in FLOW_NODE_TAGS:
                    owner = next((a.get("id") for a in el.iterancestors()
                                  if etree.QName(a).localname == "subProcess"), process.get("id"))
                    processes.setdefault(owner, []).append(
                        (el.get("id"), etree.QName(el).localname, el.get("name") or ""))
        files[path] = processes
    return files


def report() -> tuple[str, list[str]]:
    """The report text and the unreached elements as 'file: process/element'."""
    lines, missing = [], []
    total = hit = 0
    for path, processes in universe().items():
        relative = path.relative_to(ROOT)
        for process_id, nodes in processes.items():
            done = reached.get(process_id, set())
            count = sum(1 for element_id, _, _ in nodes if element_id in done)
            total, hit = total + len(nodes), hit + count
            lines.append(f"{relative} [{process_id}]: {count}/{len(nodes)} elements reached")
            for element_id, tag, name in nodes:
                mark = "x" if element_id in done else " "
                lines.append(f"  [{mark}] {element_id} ({tag}) {name}")
                if element_id not in done:
                    missing.append(f"{relative}: {process_id}/{element_id}")
    header = f"BPMN element coverage: {hit}/{total} flow nodes reached by the tests"
    return "\n".join([header, *lines]) + "\n", missing


def strict() -> bool:
    return os.environ.get(STRICT_VARIABLE) == "1"
