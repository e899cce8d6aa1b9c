"""Checks on BPMN and DMN files beyond what SpiffWorkflow's parser catches.

SpiffWorkflow stops at the first structural error and reports no line numbers; scripts, conditions and
timer expressions only fail when a case reaches them. These checks run over the XML with lxml, report
every problem with its file, line and element id, and are what `fengqiao check` prints.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from .documents import check_document_types
from .problems import Problem
from .scripting import check_source
from .task_meta import CASE_STATUSES, DEADLINE_HELPERS, TIMER_KINDS, PropertyError, TaskMeta

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
BPMN = "{%s}" % NS["bpmn"]

# Elements SpiffWorkflow 3.2 cannot run, or runs wrongly (ENGINE_NOTES).
UNSUPPORTED = {
    "complexGateway": "complex gateways are not supported by the engine",
    "adHocSubProcess": "ad-hoc subprocesses are not supported by the engine",
    "transaction": "transactions are not supported; use an embedded subprocess",
}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway",
}
TIMER_CHILDREN = ("timeDate", "timeDuration", "timeCycle")


def parse_xml(path: Path) -> tuple[etree._ElementTree | None, list[Problem]]:
    """Parse `path`; on a syntax error return no tree and a problem with the line."""
    try:
        return etree.parse(str(path)), []
    except etree.XMLSyntaxError as exc:
        return None, [Problem(str(path), exc.lineno, None, f"XML syntax error: {exc.msg}")]
    except OSError as exc:
        return None, [Problem(str(path), None, None, f"cannot read file: {exc}")]


def element_line(tree, element_id: str | None) -> int | None:
    """Line of the element with this id, for errors that only carry the id."""
    if not element_id:
        return None
    found = tree.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def element_at_line(tree, line: int | None) -> str | None:
    """Id of the innermost element with an id that starts on `line` (for XSD errors)."""
    if line is None:
        return None
    candidates = [el for el in tree.iter() if isinstance(el.tag, str) and el.sourceline == line]
    for el in candidates:
        node = el
        while node is not None:
            if node.get("id"):
                return node.get("id")
            node = node.getparent()
    return None


def check_bpmn_schema(path: Path, tree) -> list[Problem]:
    """Every XSD error of the file (SpiffWorkflow's validator only keeps the last one)."""
    validator = VALIDATOR.validator
    if validator.validate(tree):
        return []
    return [
        Problem(str(path), err.line, element_at_line(tree, err.line), f"BPMN schema: {err.message}")
        for err in validator.error_log
    ]


def check_bpmn(path: Path, tree, forms: set[str]) -> list[Problem]:
    """Fengqiao's own rules for one BPMN file (docs/process-authoring.md)."""
    checker = _BpmnChecker(path, tree, forms)
    checker.run()
    return checker.problems


def defined_process_ids(tree) -> set[str]:
    return {p.get("id") for p in tree.xpath("//bpmn:process", namespaces=NS)}


def called_elements(tree) -> list[tuple[str, str | None]]:
    """(call activity id, called process id) pairs."""
    return [(c.get("id"), c.get("calledElement")) for c in tree.xpath("//bpmn:callActivity", namespaces=NS)]


def called_decisions(tree) -> list[tuple[str, str | None]]:
    """(business rule task id, decision id) pairs."""
    result = []
    for task in tree.xpath("//bpmn:businessRuleTask", namespaces=NS):
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        result.append((task.get("id"), ref.text.strip() if ref is not None and ref.text else None))
    return result


def dmn_decision_ids(path: Path, tree) -> tuple[set[str], list[Problem]]:
    """Decision ids of a DMN file, with a problem if it has no or several decisions."""
    root = tree.getroot()
    ns = etree.QName(root).namespace
    if ns not in DMN_NAMESPACES:
        return set(), [Problem(str(path), root.sourceline, None, f"not a DMN 1.x file (namespace {ns})")]
    decisions = root.findall(f"{{{ns}}}decision")
    problems = []
    if len(decisions) != 1:
        problems.append(Problem(str(path), root.sourceline, None,
                                f"a DMN file must hold exactly one decision, found {len(decisions)}"))
    for entry in root.iter(f"{{{ns}}}text"):
        text = (entry.text or "").strip()
        owner = etree.QName(entry.getparent()).localname if entry.getparent() is not None else ""
        if owner == "inputEntry" and text in ("", "-"):
            continue  # "-" and an empty cell match any value
        try:
            for candidate in _dmn_candidates(owner, text):
                check_source(candidate, "eval")
        except SyntaxError as exc:
            problems.append(Problem(str(path), entry.sourceline, _nearest_id(entry), f"DMN cell {text!r}: {exc.msg}"))
    return {d.get("id") for d in decisions}, problems


def _dmn_candidates(owner: str, text: str) -> list[str]:
    """The Python SpiffWorkflow's DMN engine builds from a cell (SpiffWorkflow.dmn.engine.DMNEngine.evaluate)."""
    if owner != "inputEntry":
        return [text]  # inputExpression, outputEntry: evaluated as they are
    if re.search(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", text):
        return [re.sub(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", text)]
    try:
        ast.parse(text, mode="eval")
        return [text]  # compared with ==
    except SyntaxError:
        return [f"v {text}"]  # an operator cell such as "<= 2": the input expression is put in front


def _nearest_id(el) -> str | None:
    while el is not None:
        if el.get("id"):
            return el.get("id")
        el = el.getparent()
    return None


class _BpmnChecker:
    def __init__(self, path: Path, tree, forms: set[str]):
        self.path, self.tree, self.forms = path, tree, forms
        self.problems: list[Problem] = []
        self.ids = {el.get("id") for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}

    def report(self, el, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(str(self.path), el.sourceline, el.get("id") or _nearest_id(el), message, severity))

    def run(self) -> None:
        processes = self.tree.xpath("//bpmn:process", namespaces=NS)
        if not processes:
            self.problems.append(Problem(str(self.path), 1, None, "no bpmn:process in this file"))
        for process in processes:
            self.check_unsupported(process)
            self.check_references(process)
            self.check_user_tasks(process)
            self.check_scripts(process)
            self.check_conditions(process)
            self.check_gateways(process)
            self.check_timers(process)
            self.check_end_events(process)
            self.check_event_subprocesses(process)
            self.check_documents(process)
        self.check_diagram(processes)

    def check_unsupported(self, process) -> None:
        for tag, why in UNSUPPORTED.items():
            for el in process.iter(BPMN + tag):
                self.report(el, f"unsupported element bpmn:{tag}: {why}")

    def check_references(self, process) -> None:
        for flow in process.iter(BPMN + "sequenceFlow"):
            for attr in ("sourceRef", "targetRef"):
                ref = flow.get(attr)
                if ref not in self.ids:
                    self.report(flow, f"{attr} {ref!r} points to no element in this file")
        for boundary in process.iter(BPMN + "boundaryEvent"):
            if boundary.get("attachedToRef") not in self.ids:
                self.report(boundary, f"attachedToRef {boundary.get('attachedToRef')!r} points to no element")
        for el in process.iter():
            if isinstance(el.tag, str) and el.get("default") and el.get("default") not in self.ids:
                self.report(el, f"default flow {el.get('default')!r} does not exist")

    def check_user_tasks(self, process) -> None:
        for task in process.iter(BPMN + "userTask"):
            props = properties(task)
            try:
                meta = TaskMeta.from_properties(task.get("id"), task.get("name", ""), props)
            except PropertyError as exc:
                self.report(task, str(exc))
                continue
            if meta.form not in self.forms:
                self.report(task, f"form {meta.form!r} does not exist in forms/ (or is broken)")

    def check_scripts(self, process) -> None:
        for task in process.iter(BPMN + "scriptTask"):
            script = task.find("bpmn:script", NS)
            if script is None or not (script.text or "").strip():
                self.report(task, "script task has no script")
                continue
            self._check_source(script, script.text, "exec", "script")
        for tag in ("preScript", "postScript"):
            for el in process.iter("{%s}%s" % (NS["spiffworkflow"], tag)):
                if (el.text or "").strip():
                    self._check_source(el, el.text, "exec", tag)

    def check_conditions(self, process) -> None:
        for flow in process.iter(BPMN + "sequenceFlow"):
            cond = flow.find("bpmn:conditionExpression", NS)
            if cond is not None:
                if not (cond.text or "").strip():
                    self.report(flow, "empty condition expression")
                else:
                    self._check_source(flow, cond.text.strip(), "eval", "condition")

    def _check_source(self, el, source: str, mode: str, what: str) -> None:
        try:
            check_source(source if mode == "exec" else source.strip(), mode)
        except SyntaxError as exc:
            line = (el.sourceline or 0) + max((exc.lineno or 1) - 1, 0)
            self.problems.append(Problem(str(self.path), line, _nearest_id(el), f"{what}: {exc.msg}"))

    def check_gateways(self, process) -> None:
        outgoing: dict[str, list] = {}
        for flow in process.iter(BPMN + "sequenceFlow"):
            outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        for tag in ("exclusiveGateway", "inclusiveGateway"):
            for gateway in process.iter(BPMN + tag):
                flows = outgoing.get(gateway.get("id"), [])
                if len(flows) < 2 or gateway.get("default"):
                    continue
                unconditioned = [f.get("id") for f in flows if f.find("bpmn:conditionExpression", NS) is None]
                if unconditioned:
                    self.report(gateway, "gateway needs a default flow or a condition on every outgoing flow "
                                         f"(no condition on {', '.join(unconditioned)})")

    def check_timers(self, process) -> None:
        user_tasks = {t.get("id"): t for t in process.iter(BPMN + "userTask")}
        for definition in process.iter(BPMN + "timerEventDefinition"):
            event = definition.getparent()
            exprs = [c for c in definition if isinstance(c.tag, str) and etree.QName(c).localname in TIMER_CHILDREN]
            if not exprs or not (exprs[0].text or "").strip():
                self.report(event, "timer has no timeDate, timeDuration or timeCycle expression")
                continue
            self._check_timer_expression(event, exprs[0], user_tasks)
            kind = properties(event).get("timer_kind")
            if kind is not None and kind not in TIMER_KINDS:
                self.report(event, f"timer_kind {kind!r} is unknown; use one of {', '.join(TIMER_KINDS)}")

    def _check_timer_expression(self, event, expr_el, user_tasks) -> None:
        text = expr_el.text.strip()
        try:
            node = ast.parse(text, mode="eval").body
            check_source(text, "eval")
        except SyntaxError as exc:
            self.report(event, f"timer expression {text!r}: {exc.msg}")
            return
        if isinstance(node, ast.Name):
            self.report(event, f"unquoted timer literal {text}: write \"{text}\" (timer expressions are Python)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._check_iso_literal(event, expr_el, node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DEADLINE_HELPERS:
            self._check_helper_call(event, node, user_tasks)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "deadline":
            self._check_deadline_call(event, node)
        else:
            self.report(event, f"timer expression {text!r} must be a quoted ISO 8601 literal or a calendar "
                               f"helper call ({', '.join(DEADLINE_HELPERS)}, deadline)")

    def _check_iso_literal(self, event, expr_el, value: str) -> None:
        from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as Timer

        kind = etree.QName(expr_el).localname
        try:
            if kind == "timeCycle":
                Timer.parse_iso_recurring_interval(value)
            elif kind == "timeDuration":
                Timer.parse_iso_duration(value)
            else:
                parsed = Timer.parse_time_or_duration(value)
                if hasattr(parsed, "tzinfo") and "+" not in value and not value.endswith("Z"):
                    self.report(event, f"timer date {value!r} has no UTC offset; add +08:00", "warning")
        except Exception:
            self.report(event, f"timer literal {value!r} is not a valid ISO 8601 {kind}")

    def _check_helper_call(self, event, call: ast.Call, user_tasks) -> None:
        name = call.func.id
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Constant):
            self.report(event, f"{name}() takes the id of a user task as a quoted string")
            return
        target = user_tasks.get(call.args[0].value)
        if target is None:
            self.report(event, f"{name}({call.args[0].value!r}): no user task with that id in this process")
            return
        if name == "escalation_of" and not properties(target).get("escalate_after"):
            self.report(event, f"escalation_of({call.args[0].value!r}): that task has no escalate_after property")
        attached = event.get("attachedToRef")
        if attached and attached != call.args[0].value:
            self.report(event, f"{name}({call.args[0].value!r}) is on a boundary of {attached!r}: "
                               "a boundary timer should use the deadline of its own task", "warning")

    def _check_deadline_call(self, event, call: ast.Call) -> None:
        from .calendar import Duration, DurationError

        if len(call.args) != 2 or not all(isinstance(a, ast.Constant) for a in call.args):
            self.report(event, 'deadline() takes a literal amount and unit, e.g. deadline(30, "日")')
            return
        try:
            Duration.parse(f"{call.args[0].value} {call.args[1].value}")
        except DurationError as exc:
            self.report(event, f"deadline(): {exc}")

    def check_end_events(self, process) -> None:
        for end in process.iter(BPMN + "endEvent"):
            status = properties(end).get("case_status")
            if status is not None and status not in CASE_STATUSES:
                self.report(end, f"case_status {status!r} is unknown; use one of {', '.join(CASE_STATUSES)}")

    def check_event_subprocesses(self, process) -> None:
        for sub in process.iter(BPMN + "subProcess"):
            if sub.get("triggeredByEvent") != "true":
                continue
            for start in sub.findall("bpmn:startEvent", NS):
                if start.get("isInterrupting", "true") == "true":
                    self.report(start, "interrupting event subprocesses do not interrupt in SpiffWorkflow 3.2; "
                                       "use an interrupting boundary event on an embedded subprocess")

    def check_documents(self, process) -> None:
        for el in process.iter():
            if isinstance(el.tag, str) and "documents" in (props := properties(el)):
                message = check_document_types(props["documents"])
                if message:
                    self.report(el, message)

    def check_diagram(self, processes) -> None:
        diagrams = self.tree.xpath("//bpmndi:BPMNDiagram", namespaces=NS)
        if processes and not diagrams:
            self.problems.append(Problem(str(self.path), processes[0].sourceline, processes[0].get("id"),
                                         "no diagram (bpmndi:BPMNDiagram): the file would not open in a modeler"))
            return
        shapes = {s.get("bpmnElement") for s in self.tree.xpath("//bpmndi:BPMNShape", namespaces=NS)}
        edges = {e.get("bpmnElement") for e in self.tree.xpath("//bpmndi:BPMNEdge", namespaces=NS)}
        for process in processes:
            for el in process.iter():
                if not isinstance(el.tag, str) or not el.tag.startswith(BPMN):
                    continue
                local = el.tag[len(BPMN):]
                if local in FLOW_NODE_TAGS and el.get("id") not in shapes:
                    self.report(el, "no shape in the diagram for this element")
                elif local == "sequenceFlow" and el.get("id") not in edges:
                    self.report(el, "no edge in the diagram for this sequence flow")


def properties(el) -> dict[str, str]:
    """The `spiffworkflow:properties` of an element as a dict."""
    found = el.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    return {p.get("name"): p.get("value", "") for p in found}
