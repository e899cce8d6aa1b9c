"""Process scripts run in a sandbox.

A definition that tries to reach the file system, the network or the interpreter's internals is
refused by `fengqiao check` (file, line, element id) and again when it would run; one that loops
forever or allocates hugely is stopped with a clear error, its case is rolled back and the server
carries on with the next case. The scripts, conditions, DMN cells and deadline helpers of real
processes keep working.
"""
from __future__ import annotations

import shutil
import time
import tracemalloc
from datetime import datetime

import pytest
from RestrictedPython import compile_restricted_exec

from engine.calendar import SHANGHAI, WorkingCalendar
from engine.deadlines import deadline_helpers
from engine.errors import ProcessError
from engine.forms import FormLibrary
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.script_compiler import SandboxPolicy
from engine.script_builtins import SANDBOX_BUILTINS
from engine.script_limits import script_run
from engine.scripting import (
    CaseScriptEnvironment, ScriptError, ScriptLimitExceeded, ScriptLimits, UnsafeSource, check_source,
)
from fengqiao.cli import main
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario

FORMS = ROOT / "forms"
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
LIMITS = ScriptLimits()
SLOW_MACHINE_LIMITS = ScriptLimits(time_limit=30)
# Whatever these scripts try, the test process must stay far below this (bytes, traced by tracemalloc).
MEMORY_CEILING = 40_000_000
# Loops must stop within the time limit; this bound only catches a sandbox that does not stop them.
WALL_CLOCK_CEILING = 10.0


def execute(script: str, data: dict | None = None, limits: ScriptLimits = LIMITS, **helpers) -> dict:
    """Run a script as a script task would, straight through the environment (no `fengqiao check`)."""
    data = dict(data or {})
    CaseScriptEnvironment(helpers, limits).execute(script, data)
    return data


def evaluate(expression: str, data: dict | None = None, limits: ScriptLimits = LIMITS, external=None, **helpers):
    """Evaluate a condition, timer expression or DMN cell as the engine would."""
    return CaseScriptEnvironment(helpers, limits).evaluate(expression, dict(data or {}), external)


# -- known escapes ---------------------------------------------------------------------------------

INTERNALS = "it reaches the interpreter's internals"
ESCAPES = [
    ("import os", "import is not allowed in process scripts"),
    ("from subprocess import run", "import is not allowed in process scripts"),
    ("classes = ().__class__.__base__.__subclasses__()",
     "attribute '__subclasses__' is not allowed (names starting with '_' are reserved)"),
    ("kind = total.__class__", "attribute '__class__' is not allowed (names starting with '_' are reserved)"),
    ("found = deadline_of.__globals__",
     "attribute '__globals__' is not allowed (names starting with '_' are reserved)"),
    ("found = __builtins__", "name '__builtins__' is not allowed (names starting with '_' are reserved)"),
    ("secret = total._value", "attribute '_value' is not allowed (names starting with '_' are reserved)"),
    ('text = open("/etc/passwd").read()', "open() is not allowed in process scripts: scripts have no file access"),
    ('value = eval("1 + 1")', "eval() is not allowed in process scripts: no running code from text"),
    ('exec("total = 2")', "exec() is not allowed in process scripts: no running code from text"),
    ('code = compile("1", "x", "eval")', "compile() is not allowed in process scripts: no running code from text"),
    ('real = getattr(total, "real")', "getattr() is not allowed in process scripts: write obj.name"),
    ("names = globals()", f"globals() is not allowed in process scripts: {INTERNALS}"),
    ("names = vars()", f"vars() is not allowed in process scripts: {INTERNALS}"),
    ("kind = type(total)", f"type() is not allowed in process scripts: {INTERNALS}"),
    ('text = "{0.__class__}".format(total)',
     "attribute 'format' is not allowed: its fields can reach attributes ('{0.__class__}'); use an f-string"),
    ('text = "{0.__class__}".format_map({})',
     "attribute 'format_map' is not allowed: its fields can reach attributes ('{0.__class__}'); use an f-string"),
    ("frame = (n for n in []).gi_frame", f"attribute 'gi_frame' is not allowed: {INTERNALS}"),
    ("classes = str.mro()", f"attribute 'mro' is not allowed: {INTERNALS}"),
    ("class Escape:\n    pass", "class definitions are not allowed in process scripts"),
    ("global total", "global/nonlocal are not allowed in process scripts"),
    ("print(total)",
     "print() is not allowed in process scripts: scripts have no output; assign the value to a variable"),
    ("data = bytes(10**10)", "bytes() is not allowed in process scripts: binary data is not available"),
]
FIRST_LINE = "total = 0\n"  # every escape sits on the script's second line


def category_with_script(tmp_path, script: str):
    """A processes/ tree whose one category runs `script` in its script task `compute`."""
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "tests" / "fixtures" / "broken" / "escape_import", processes / "escape_import")
    bpmn = processes / "escape_import" / "escape_import.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    escaped = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    bpmn.write_text(text.replace('import os\nfiles = os.listdir(".")', escaped), encoding="utf-8")
    script_line = next(n for n, line in enumerate(text.splitlines(), 1) if "<bpmn:script>" in line)
    return processes, bpmn, script_line


@pytest.mark.parametrize("escape, message", ESCAPES, ids=[e for e, _ in ESCAPES])
def test_check_refuses_each_known_escape_with_file_line_and_element(capsys, tmp_path, escape, message):
    processes, bpmn, script_line = category_with_script(tmp_path, FIRST_LINE + escape)
    code = main(["check", str(processes), "--forms", str(FORMS)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert f"error: {bpmn}:{script_line + 1} compute: script: {message}" in lines, lines


def test_check_refuses_an_escape_in_a_condition_on_the_flow_that_holds_it(capsys, tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sandbox_category", processes)
    bpmn = processes / "sandbox" / "sandbox.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace(
        'reject_reason == "loop"', 'reject_reason.__class__.__name__ == "loop"'), encoding="utf-8")
    line = next(n for n, text in enumerate(bpmn.read_text(encoding="utf-8").splitlines(), 1)
                if 'id="flow_route_loop"' in text and "sequenceFlow" in text)

    assert main(["check", str(processes), "--forms", str(FORMS)]) == 1
    assert (f"error: {bpmn}:{line} flow_route_loop: condition: attribute '__name__' is not allowed "
            "(names starting with '_' are reserved)") in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("expression, message", [
    ("().__class__.__bases__", "attribute '__bases__' is not allowed (names starting with '_' are reserved)"),
    ('open("/etc/passwd")', "open() is not allowed in process scripts: scripts have no file access"),
    ('__import__("os")', "name '__import__' is not allowed (names starting with '_' are reserved)"),
    ('"{0.__globals__}".format(deadline_of)',
     "attribute 'format' is not allowed: its fields can reach attributes ('{0.__class__}'); use an f-string"),
    ("[x for x in ()].gi_code", f"attribute 'gi_code' is not allowed: {INTERNALS}"),
])
def test_conditions_timer_expressions_and_dmn_cells_are_checked_the_same_way(expression, message):
    with pytest.raises(UnsafeSource) as caught:
        check_source(expression, "eval")
    assert (caught.value.msg, caught.value.lineno) == (message, 1)


@pytest.mark.parametrize("escape, message", ESCAPES, ids=[e for e, _ in ESCAPES])
def test_the_environment_refuses_each_escape_before_running_it(escape, message):
    """A definition that never went through `fengqiao check` is refused when the engine reaches it."""
    data = {"total": 1}
    with pytest.raises(SyntaxError) as caught:
        execute(FIRST_LINE + escape, data)
    assert (caught.value.msg, caught.value.lineno) == (message, 2)
    assert data == {"total": 1}  # nothing ran


@pytest.mark.parametrize("escape", [escape for escape, _ in ESCAPES if escape != "global total"])
def test_the_guards_hold_even_for_code_that_skipped_our_check(escape):
    """Compiled by the restricted compiler alone, every escape is refused by it or fails when run."""
    compiled = compile_restricted_exec(FIRST_LINE + escape, policy=SandboxPolicy)
    if compiled.errors:
        return  # the restricted compiler refuses it by itself
    scope = {"__builtins__": SANDBOX_BUILTINS, "deadline_of": lambda task_id: ""}
    with pytest.raises((ScriptError, NameError, ImportError)):
        with script_run(LIMITS):
            exec(compiled.code, scope)


# -- loops -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("script, message", [
    ("while True:\n    pass", "script ran more than 100000 loop iterations (stopped)"),
    ("rounds = 0\nwhile True:\n    rounds += 1", "script ran more than 100000 loop iterations (stopped)"),
    ("for i in range(10**12):\n    pass", "range() of more than 100000 numbers is not allowed (stopped)"),
    ("pairs = [(i, j) for i in range(100000) for j in range(100000)]",
     "script ran more than 100000 loop iterations (stopped)"),
    # Exponential recursion that never gets deep: every call counts as an iteration.
    ("def grow(n):\n    return 1 if n == 0 else grow(n - 1) + grow(n - 1)\ntotal = grow(60)",
     "script ran more than 100000 loop iterations (stopped)"),
    ("spin = lambda n: spin(n - 1) + spin(n - 1) if n else 1\ntotal = spin(60)",
     "script ran more than 100000 loop iterations (stopped)"),
    # Catching the error does not let the script go on.
    ("while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
     "script ran more than 100000 loop iterations (stopped)"),
    ("try:\n    while True:\n        pass\nexcept Exception:\n    pass\ndone = True",
     "script ran more than 100000 loop iterations (stopped)"),
])
def test_endless_loops_are_stopped(script, message):
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match=message.replace("(", r"\(").replace(")", r"\)")):
        execute(script)
    assert time.monotonic() - started < WALL_CLOCK_CEILING


def test_a_loop_doing_slow_work_each_round_is_stopped_by_the_time_limit():
    limits = ScriptLimits(time_limit=0.2)
    script = 'text = "ab" * 2000000\nfor i in range(100000):\n    hits = text.count("b")'
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match=r"script ran longer than 0.2 s \(stopped\)"):
        execute(script, limits=limits)
    assert time.monotonic() - started < WALL_CLOCK_CEILING


def test_a_condition_calling_a_slow_lambda_is_stopped_by_the_time_limit():
    limits = ScriptLimits(time_limit=0.2)
    with pytest.raises(ScriptLimitExceeded, match="script ran longer than 0.2 s"):
        evaluate("sorted(range(100000), key=lambda v: sum(range(100000)))[0] == 0", limits=limits)


def test_the_limits_are_configurable():
    strict = ScriptLimits(max_iterations=50)
    with pytest.raises(ScriptLimitExceeded, match="more than 50 loop iterations"):
        execute("i = 0\nwhile i < 100:\n    i += 1", limits=strict)
    assert execute("i = 0\nwhile i < 100:\n    i += 1")["i"] == 100


# -- allocations -----------------------------------------------------------------------------------

ALLOCATE = "script would allocate more than 10 MB (stopped)"
BIG_NUMBER = "script would compute a number of more than 100000 bits (stopped)"


@pytest.mark.parametrize("expression, message", [
    ('"x" * 10**10', ALLOCATE),
    ("[0] * 10**9", ALLOCATE),
    ("10 ** 10**8", BIG_NUMBER),
    ("1 << 10**10", BIG_NUMBER),
    ('int("f" * 1000000, 16)', BIG_NUMBER),
    ("round(5, -10**9)", BIG_NUMBER),
    ("len(list(range(10**12)))", "range() of more than 100000 numbers is not allowed (stopped)"),
    ('"".join(["x" * 1000000] * 1000)', ALLOCATE),
    ('"-".join("x" * 9000000)', ALLOCATE),
    ('"ab".replace("", "x" * 5000000)', ALLOCATE),
    ('"x".center(10**10)', ALLOCATE),
    ('"x".zfill(10**10)', ALLOCATE),
    ('("\\t" * 1000).expandtabs(10**8)', ALLOCATE),
    ('f"{0:>10000000000}"', ALLOCATE),
    ('f"{0:.10000000000f}"', ALLOCATE),
    ('"%10000000000d" % 1', ALLOCATE),
    ("sum([[0] * 10000] * 10000, [])", ALLOCATE),
    ("len(str([[0] * 1000] * 10000))", ALLOCATE),
    ('list("x" * 5000000)', ALLOCATE),
    ("sorted([0] * 1000000 + [1] * 1000000)", ALLOCATE),
])
def test_huge_allocations_are_refused_before_they_happen(expression, message):
    tracemalloc.start()
    try:
        with pytest.raises(ScriptLimitExceeded) as caught:
            # A generous clock: the refusal must come from the allocation estimate. Walking a shared
            # nested list under tracemalloc takes ~0.1 s here, but passed 1 s once on a loaded CI run.
            evaluate(expression, limits=SLOW_MACHINE_LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == message
    assert peak < MEMORY_CEILING


@pytest.mark.parametrize("script, message", [
    ('text = "x" * 1000\nwhile True:\n    text += text', ALLOCATE),
    ("items = [1]\nfor i in range(40):\n    items.extend(items)", ALLOCATE),
    ("n = 10\nwhile True:\n    n = n * n", BIG_NUMBER),
    ('kept = []\nfor i in range(100000):\n    kept.append("x" * 1000)', ALLOCATE),
    ('kept = []\nfor i in range(100000):\n    kept.append(f"{i:>1000}")', ALLOCATE),
    # Lists holding the same list twice, forty levels deep: small in memory, 2**40 items written out.
    ("nested = [0]\nfor i in range(40):\n    nested = [nested, nested]\ntext = str(nested)", ALLOCATE),
    ("nested = [0]\nfor i in range(40):\n    nested = [nested, nested]",
     "script left more than 1000000 values in the case data (stopped)"),
    ("loop = []\nloop.append(loop)", "script left a value that contains itself in the case data (stopped)"),
])
def test_scripts_that_grow_their_data_are_stopped(script, message):
    data = {"total": 1}
    tracemalloc.start()
    try:
        with pytest.raises(ScriptLimitExceeded) as caught:
            execute(script, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == message
    assert peak < MEMORY_CEILING


def test_a_dmn_output_that_would_not_store_is_refused():
    with pytest.raises(ScriptLimitExceeded, match="values in the case data"):
        evaluate("(lambda a: [[[[a] * 100] * 100] * 100] * 100)(0)")


# -- what processes do still works ----------------------------------------------------------------

def test_the_scripts_processes_use_still_run():
    data = execute(
        "second_supervision_count = second_supervision_count + 1\n"
        "rehandle = True\n"
        'handling_level = {"village": "township", "township": "county"}[handling_level]\n'
        'names = meeting_departments_text.replace("，", ",").replace("、", ",").split(",")\n'
        "meeting_departments = []\n"
        "for name in names:\n"
        "    name = str(name).strip()\n"
        "    if name and name not in meeting_departments:\n"
        "        meeting_departments.append(name)\n"
        "department_opinions = sorted(department_opinions,\n"
        '                             key=lambda record: meeting_departments.index(record["department"]))\n'
        'dispatch_note = "联席会议意见：" + binding_opinion\n'
        'summary = f"{handling_level}: {len(meeting_departments)} 个部门"\n'
        "rounds = 0\n"
        "rounds += 1\n"
        "first, *rest = meeting_departments\n",
        {"second_supervision_count": 0, "handling_level": "village", "binding_opinion": "同意",
         "meeting_departments_text": "司法所，派出所、住建局,司法所",
         "department_opinions": [{"department": "住建局"}, {"department": "司法所"}]})
    assert data["second_supervision_count"] == 1 and data["rehandle"] is True
    assert data["handling_level"] == "township"
    assert data["meeting_departments"] == ["司法所", "派出所", "住建局"]
    assert [o["department"] for o in data["department_opinions"]] == ["司法所", "住建局"]
    assert data["dispatch_note"] == "联席会议意见：同意"
    assert data["summary"] == "township: 3 个部门"
    assert (data["rounds"], data["first"], data["rest"]) == (1, "司法所", ["派出所", "住建局"])
    assert "names" in data and "name" in data  # plain variables stay; no builtins or guards leak into the data
    assert not any(key.startswith("_") for key in data)


@pytest.mark.parametrize("expression, data, expected", [
    ('satisfaction == "dissatisfied" and second_supervision_count < 1',
     {"satisfaction": "dissatisfied", "second_supervision_count": 0}, True),
    ("joint_meeting == True and len(meeting_departments) >= 2",
     {"joint_meeting": True, "meeting_departments": ["a"]}, False),
    ("not (treatment_ended == True and disability_rated == True) and harm_checks < 6",
     {"treatment_ended": True, "disability_rated": False, "harm_checks": 2}, True),
    ('risk_color in ("红", "橙")', {"risk_color": "橙"}, True),
    # The shapes SpiffWorkflow's DMN engine builds from cells: equality, an operator cell, a "?" cell.
    ('(risk_color) == ("黄")', {"risk_color": "黄"}, True),
    ("wage_amount>= 30000", {"wage_amount": 45000}, True),
    ('risk_color in ["红", "橙"]', {"risk_color": "黄"}, False),
    ("3 <= workers_count <= 10", {"workers_count": 12}, False),
    ("amount * 2 + 1", {"amount": 20}, 41),
    ("2 ** 10", {}, 1024),
    ('"%s-%03d" % (code, number)', {"code": "A", "number": 7}, "A-007"),
])
def test_conditions_and_dmn_cells_still_evaluate(expression, data, expected):
    assert evaluate(expression, data) == expected


def test_a_question_mark_dmn_cell_reads_its_input_from_the_engine():
    assert evaluate('dmninputexpr in ("water", "air", "soil")', {}, external={"dmninputexpr": "air"}) is True


def test_the_deadline_helpers_still_work(registry):
    bundle = registry.category("neighbour").bundle
    calendar = WorkingCalendar()
    helpers = deadline_helpers(bundle, calendar, MONDAY)
    mediate_due = calendar.add(MONDAY, bundle.tasks["mediate"].deadline).due
    assert evaluate('deadline_of("mediate")', **helpers) == mediate_due.isoformat()
    assert evaluate('deadline(3, "日")', **helpers) == helpers["deadline"](3, "日")
    with pytest.raises(ValueError, match="no user task 'nowhere'"):
        evaluate('warning_of("nowhere")', **helpers)


def test_dmn_routing_and_deadline_timers_still_work_in_a_real_process(sessions, runtime, staff, clock):
    case = CaseScenario(sessions, runtime, staff, clock)
    case.do("accept")
    case.do("assess", {"risk_color": "橙", "complexity": "ordinary", "assessment": "有激化风险"})
    assert case.task("dispatch").form_defaults["handling_level"] == "township"
    case.dispatch_as_routed()
    assert {t.element_id for t in case.timers()} >= {"mediate_warning", "mediate_overdue", "mediate_escalate"}


# -- through the case runtime -----------------------------------------------------------------------

@pytest.fixture
def sandbox_runtime(tmp_path, clock):
    """A runtime over tests/fixtures/sandbox_category: its definitions pass the check but misbehave."""
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sandbox_category", processes)
    registry = ProcessRegistry(processes, FormLibrary(FORMS))
    assert not registry.report.errors, registry.report.errors
    return CaseRuntime(registry, clock)


def stored(case: CaseScenario) -> tuple:
    row = case.case()
    return row.workflow_state, row.updated_at, row.status, case.ready(), len(case.events())


@pytest.mark.parametrize("reason, element_id, message", [
    ("loop", "loop_forever", "script ran more than 100000 loop iterations (stopped)"),
    ("allocate", "route", "script would allocate more than 10 MB (stopped)"),
])
def test_a_runaway_script_fails_its_step_the_case_is_rolled_back_and_the_next_case_runs(
        sessions, sandbox_runtime, staff, clock, reason, element_id, message):
    case = CaseScenario(sessions, sandbox_runtime, staff, clock, category="sandbox")
    before = stored(case)

    with pytest.raises(ProcessError) as caught:
        case.do("accept", {"accepted": False, "reject_reason": reason})
    assert caught.value.element_id == element_id
    assert message in str(caught.value)
    assert stored(case) == before

    other = CaseScenario(sessions, sandbox_runtime, staff, clock, category="sandbox")
    other.do("accept", {"accepted": True, "reject_reason": ""})
    assert other.ready() == ["review"]
    assert "note" in other.passed()
