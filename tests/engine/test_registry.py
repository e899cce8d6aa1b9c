"""The process registry and its lint, against a corpus of broken definitions.

`tests/fixtures/broken/` is a processes tree in which every folder but `valid/` and `uses_library/`
carries exactly one mistake (see its README). Each test checks that the mistake is reported with
the right file, line and element id, that the broken category is left out whole, and that the good
categories of the same tree still load and run.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.calendar import Duration
from engine.errors import UnknownCategory
from engine.forms import FormLibrary
from engine.problems import Problem
from engine.registry import ProcessRegistry

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BROKEN = FIXTURES / "broken"
FORMS = ROOT / "forms"
VALID = ("uses_library", "valid")
BROKEN_CATEGORIES = sorted(
    p.name for p in BROKEN.iterdir() if p.is_dir() and p.name != "library" and p.name not in VALID
)


# -- helpers --------------------------------------------------------------------------------------

def line_of(path: Path, needle: str, after: int = 0) -> int:
    """1-based number of the first line (after line `after`) that contains `needle`."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number > after and needle in text:
            return number
    raise AssertionError(f"{needle!r} not found in {path}")


def id_line(path: Path, element_id: str) -> int:
    """Line of the element carrying id="element_id" (not bpmnElement=, not a reference)."""
    pattern = re.compile(rf'\sid="{re.escape(element_id)}"')
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.search(text):
            return number
    raise AssertionError(f"no element with id {element_id!r} in {path}")


def problems_of(registry: ProcessRegistry, folder: str, root: Path = BROKEN) -> list[Problem]:
    base = (root / folder).resolve()
    return [p for p in registry.report.problems if Path(p.file).resolve().is_relative_to(base)]


def the_problem(registry: ProcessRegistry, folder: str, root: Path = BROKEN) -> Problem:
    """The one problem reported for `folder`: each broken folder carries exactly one mistake."""
    found = problems_of(registry, folder, root)
    assert len(found) == 1, "\n".join(map(str, found)) or f"no problem reported for {folder}/"
    return found[0]


def assert_left_out(registry: ProcessRegistry, code: str, problem: Problem) -> None:
    """The broken category is unavailable (with its problem); the valid one still loads and runs."""
    assert problem.is_error
    assert code not in registry.categories
    with pytest.raises(UnknownCategory) as raised:
        registry.category(code)
    assert problem in raised.value.problems
    assert str(problem) in str(raised.value)
    assert "valid" in registry.categories
    assert registry.category("valid").bundle.spec is not None


def assert_problem(problem: Problem, file: Path, line: int | None, element_id: str | None, *phrases: str) -> None:
    assert Path(problem.file).resolve() == file.resolve(), problem
    assert problem.file.endswith(str(file.relative_to(file.parents[1]))), problem
    assert problem.line == line, problem
    assert problem.element_id == element_id, problem
    for phrase in phrases:
        assert phrase in problem.message, problem
    where = f"{problem.file}:{line if line is not None else '?'}"
    assert str(problem) == f"{where} {element_id or '-'}: {problem.message}"


def run_to_end(bundle, expected_tasks: list[str]) -> None:
    """Run a bundle's process, completing each ready user task; check their ids and the end."""
    workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
    workflow.do_engine_steps()
    done = []
    while not workflow.is_completed():
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert len(ready) == 1, [t.task_spec.bpmn_id for t in ready]
        ready[0].set_data(accepted=True)
        ready[0].run()
        done.append(ready[0].task_spec.bpmn_id)
        workflow.do_engine_steps()
    assert done == expected_tasks


@pytest.fixture(scope="module")
def broken() -> ProcessRegistry:
    return ProcessRegistry(BROKEN, FormLibrary(FORMS))


@pytest.fixture
def tree(tmp_path) -> Path:
    """A private copy of the broken corpus, to edit."""
    shutil.copytree(BROKEN, tmp_path / "processes")
    return tmp_path / "processes"


# -- the good categories of the broken tree --------------------------------------------------------

def test_only_the_valid_categories_of_the_broken_tree_load(broken):
    assert sorted(broken.categories) == list(VALID)
    assert broken.report.problems, "the broken corpus must report problems"
    assert all(p.is_error for p in broken.report.problems)


def test_every_broken_folder_is_reported_and_left_out(broken):
    for folder in BROKEN_CATEGORIES:
        assert problems_of(broken, folder), f"nothing reported for {folder}/"
        assert folder not in broken.categories


def test_the_valid_category_runs_to_its_end(broken):
    category = broken.category("valid")
    assert (category.code, category.name, category.process_id) == ("valid", "有效类别", "valid_process")
    assert category.bundle.process_id == "valid_process"
    assert set(category.bundle.tasks) == {"accept"}
    assert category.bundle.tasks["accept"].role == "clerk"
    assert [p.name for p in category.files] == ["valid.bpmn"]
    run_to_end(category.bundle, ["accept"])


def test_a_category_calling_a_good_library_process_runs_through_it(broken):
    category = broken.category("uses_library")
    assert set(category.bundle.subprocess_specs) == {"review"}
    assert BROKEN / "library" / "review.bpmn" in category.files
    assert BROKEN / "library" / "broken_review.bpmn" not in category.files
    run_to_end(category.bundle, ["accept", "review_task"])


def test_an_unknown_category_raises_without_problems(broken):
    with pytest.raises(UnknownCategory) as raised:
        broken.category("no_such_category")
    assert raised.value.problems == []
    assert raised.value.code == "no_such_category"


# -- one test per broken folder ------------------------------------------------------------------

def test_xml_syntax_error_is_reported_on_the_line_the_parser_stopped(broken):
    bpmn = BROKEN / "xml_syntax" / "xml_syntax.bpmn"
    unclosed = line_of(bpmn, "<bpmn:outgoing>flow_0")  # never closed
    mismatch = line_of(bpmn, "</bpmn:startEvent>", after=unclosed)
    found = [p for p in problems_of(broken, "xml_syntax") if p.file.endswith("xml_syntax.bpmn")]
    assert len(found) == 1, found
    assert_problem(found[0], bpmn, mismatch, None, "XML syntax error", "tag mismatch", f"line {unclosed}")
    assert_left_out(broken, "xml_syntax", found[0])


def test_an_unreadable_bpmn_file_is_not_also_reported_as_a_missing_process(broken):
    assert [p.message.split(":")[0] for p in problems_of(broken, "xml_syntax")] == ["XML syntax error"]


def test_xsd_violation_names_the_file_line_and_enclosing_element(broken):
    bpmn = BROKEN / "xsd_violation" / "xsd_violation.bpmn"
    problem = the_problem(broken, "xsd_violation")
    # <bpmn:urgency> has no id of its own: the problem names the user task it sits in.
    assert_problem(problem, bpmn, line_of(bpmn, "<bpmn:urgency>"), "accept", "BPMN schema", "urgency",
                   "not expected")
    assert_left_out(broken, "xsd_violation", problem)


def test_dangling_target_ref_is_reported_on_the_flow(broken):
    bpmn = BROKEN / "dangling_ref" / "dangling_ref.bpmn"
    problem = the_problem(broken, "dangling_ref")
    assert_problem(problem, bpmn, id_line(bpmn, "flow_1"), "flow_1", "targetRef 'nowhere'", "points to no element")
    assert_left_out(broken, "dangling_ref", problem)


def test_complex_gateway_is_refused_as_unsupported(broken):
    bpmn = BROKEN / "complex_gateway" / "complex_gateway.bpmn"
    problem = the_problem(broken, "complex_gateway")
    assert_problem(problem, bpmn, id_line(bpmn, "merge_complex"), "merge_complex",
                   "unsupported element bpmn:complexGateway")
    assert_left_out(broken, "complex_gateway", problem)


def test_script_syntax_error_is_reported_on_the_script_line(broken):
    bpmn = BROKEN / "bad_script" / "bad_script.bpmn"
    problem = the_problem(broken, "bad_script")
    # The script's first line is fine; the error is on its second line, one below <bpmn:script>.
    assert line_of(bpmn, "x = = 1") == line_of(bpmn, "<bpmn:script>") + 1
    assert_problem(problem, bpmn, line_of(bpmn, "x = = 1"), "compute", "script", "invalid syntax")
    assert_left_out(broken, "bad_script", problem)


def test_unquoted_timer_literal_asks_for_quotes(broken):
    bpmn = BROKEN / "unquoted_timer" / "unquoted_timer.bpmn"
    problem = the_problem(broken, "unquoted_timer")
    assert_problem(problem, bpmn, id_line(bpmn, "accept_reminder"), "accept_reminder",
                   "unquoted timer literal PT2S", 'write "PT2S"')
    assert_left_out(broken, "unquoted_timer", problem)


def test_script_reaching_for_dunder_attributes_is_refused_at_check_time(broken):
    bpmn = BROKEN / "escape_dunder" / "escape_dunder.bpmn"
    problem = the_problem(broken, "escape_dunder")
    assert_problem(problem, bpmn, line_of(bpmn, "().__class__.__base__.__subclasses__()"), "compute",
                   "script", "is not allowed", "names starting with '_' are reserved")
    assert_left_out(broken, "escape_dunder", problem)


def test_script_importing_a_module_is_refused_at_check_time(broken):
    bpmn = BROKEN / "escape_import" / "escape_import.bpmn"
    problem = the_problem(broken, "escape_import")
    assert_problem(problem, bpmn, line_of(bpmn, "import os"), "compute", "script",
                   "import is not allowed in process scripts")
    assert_left_out(broken, "escape_import", problem)


def test_user_task_without_deadline(broken):
    bpmn = BROKEN / "missing_deadline" / "missing_deadline.bpmn"
    problem = the_problem(broken, "missing_deadline")
    assert_problem(problem, bpmn, id_line(bpmn, "accept"), "accept", "needs spiffworkflow properties deadline")
    assert_left_out(broken, "missing_deadline", problem)


def test_user_task_with_unknown_role(broken):
    bpmn = BROKEN / "unknown_role" / "unknown_role.bpmn"
    problem = the_problem(broken, "unknown_role")
    assert_problem(problem, bpmn, id_line(bpmn, "accept"), "accept", "role 'janitor' is unknown", "mediator")
    assert_left_out(broken, "unknown_role", problem)


def test_user_task_with_a_form_that_does_not_exist(broken):
    bpmn = BROKEN / "unknown_form" / "unknown_form.bpmn"
    problem = the_problem(broken, "unknown_form")
    assert_problem(problem, bpmn, id_line(bpmn, "accept"), "accept", "form 'no_such_form' does not exist")
    assert_left_out(broken, "unknown_form", problem)


def test_gateway_without_default_and_an_unconditioned_flow(broken):
    bpmn = BROKEN / "gateway_no_default" / "gateway_no_default.bpmn"
    problem = the_problem(broken, "gateway_no_default")
    assert_problem(problem, bpmn, id_line(bpmn, "accept_gateway"), "accept_gateway",
                   "needs a default flow or a condition on every outgoing flow", "no condition on flow_rejected")
    assert "flow_2" not in problem.message  # that one has a condition
    assert_left_out(broken, "gateway_no_default", problem)


def test_process_without_diagram(broken):
    bpmn = BROKEN / "missing_diagram" / "missing_diagram.bpmn"
    problem = the_problem(broken, "missing_diagram")
    assert_problem(problem, bpmn, id_line(bpmn, "missing_diagram_process"), "missing_diagram_process",
                   "no diagram (bpmndi:BPMNDiagram)")
    assert_left_out(broken, "missing_diagram", problem)


def test_call_activity_to_a_process_nobody_defines(broken):
    bpmn = BROKEN / "dangling_call" / "dangling_call.bpmn"
    problem = the_problem(broken, "dangling_call")
    assert_problem(problem, bpmn, id_line(bpmn, "call_review"), "call_review",
                   "calledElement 'no_such_process'", "no process with that id")
    assert_left_out(broken, "dangling_call", problem)


def test_business_rule_task_calling_a_decision_no_dmn_defines(broken):
    bpmn = BROKEN / "dangling_decision" / "dangling_decision.bpmn"
    problem = the_problem(broken, "dangling_decision")
    assert_problem(problem, bpmn, id_line(bpmn, "route"), "route",
                   "calledDecisionId 'no_such_decision' is not defined by any .dmn file")
    assert_left_out(broken, "dangling_decision", problem)


def test_category_toml_naming_a_process_the_bpmn_does_not_define(broken):
    toml = BROKEN / "toml_process_id" / "category.toml"
    problem = the_problem(broken, "toml_process_id")
    assert problem.line == line_of(toml, "process_id =")
    assert_problem(problem, toml, problem.line, None, "process_id 'no_such_process_id' is not defined")
    assert_left_out(broken, "toml_process_id", problem)


def test_category_toml_with_a_syntax_error(broken):
    toml = BROKEN / "toml_syntax" / "category.toml"
    problem = the_problem(broken, "toml_syntax")
    assert_problem(problem, toml, line_of(toml, 'name "'), None, "TOML syntax", "Expected '='")
    assert_left_out(broken, "toml_syntax", problem)


def test_dmn_file_with_an_xml_syntax_error_leaves_the_whole_category_out(broken):
    dmn = BROKEN / "dmn_syntax" / "routing.dmn"
    problem = the_problem(broken, "dmn_syntax")
    assert_problem(problem, dmn, id_line(dmn, "syntax_routing_output"), None, "XML syntax error",
                   "attributes construct error")
    # Nothing in the category's BPMN is wrong, yet nothing of it is loaded.
    assert_left_out(broken, "dmn_syntax", problem)


def gap_registry(tmp_path: Path, folder: str) -> ProcessRegistry:
    """The valid category plus one folder of tests/fixtures/lint_gaps/ in a fresh tree."""
    shutil.copytree(BROKEN / "valid", tmp_path / "valid")
    shutil.copytree(FIXTURES / "lint_gaps" / folder, tmp_path / folder)
    return ProcessRegistry(tmp_path, FormLibrary(FORMS))


def test_dmn_output_cell_with_a_python_syntax_error_is_reported(tmp_path):
    registry = gap_registry(tmp_path, "dmn_output_syntax")
    dmn = tmp_path / "dmn_output_syntax" / "routing.dmn"
    problem = the_problem(registry, "dmn_output_syntax", tmp_path)
    assert Path(problem.file) == dmn
    assert problem.element_id == "cell_routing_rule_red_out"
    assert '"county" = = 1' in problem.message
    assert "dmn_output_syntax" not in registry.categories
    assert "valid" in registry.categories


def test_dmn_output_cell_with_a_python_syntax_error_has_its_line(tmp_path):
    registry = gap_registry(tmp_path, "dmn_output_syntax")
    dmn = tmp_path / "dmn_output_syntax" / "routing.dmn"
    problem = the_problem(registry, "dmn_output_syntax", tmp_path)
    # The <outputEntry> element, or the <text> line inside it holding the expression.
    assert problem.line in (id_line(dmn, "cell_routing_rule_red_out"), line_of(dmn, '"county" = = 1'))


def test_dmn_input_cell_with_a_python_syntax_error_is_reported(tmp_path):
    registry = gap_registry(tmp_path, "dmn_input_syntax")
    dmn = tmp_path / "dmn_input_syntax" / "routing.dmn"
    problem = the_problem(registry, "dmn_input_syntax", tmp_path)
    assert Path(problem.file) == dmn
    assert problem.line == line_of(dmn, '"红" = = 1')
    assert problem.element_id == "cell_routing_rule_red_in"
    assert '"红" = = 1' in problem.message
    assert "dmn_input_syntax" not in registry.categories


# -- library ---------------------------------------------------------------------------------------

def test_a_broken_library_file_takes_out_only_the_categories_that_call_it(broken):
    library_file = BROKEN / "library" / "broken_review.bpmn"
    own = [p for p in broken.report.problems if Path(p.file) == library_file]
    assert len(own) == 1
    assert_problem(own[0], library_file, id_line(library_file, "broken_task"), "broken_task",
                   "role 'janitor' is unknown")

    caller = BROKEN / "uses_broken_library" / "uses_broken_library.bpmn"
    problem = the_problem(broken, "uses_broken_library")
    assert_problem(problem, caller, id_line(caller, "call_review"), "call_review",
                   "calledElement 'broken_review'", str(library_file), "which has errors")
    assert_left_out(broken, "uses_broken_library", problem)
    # The category calling the good library file, and the one calling none, are unaffected.
    assert "uses_library" in broken.categories


def test_fixing_the_library_file_brings_its_callers_back(tree):
    registry = ProcessRegistry(tree, FormLibrary(FORMS))
    assert "uses_broken_library" not in registry.categories
    library_file = tree / "library" / "broken_review.bpmn"
    library_file.write_text(library_file.read_text(encoding="utf-8").replace('"janitor"', '"clerk"'),
                            encoding="utf-8")
    registry.reload()
    assert "uses_broken_library" in registry.categories
    assert not [p for p in registry.report.problems if "broken_review" in p.file or "uses_broken" in p.file]
    run_to_end(registry.category("uses_broken_library").bundle, ["accept", "broken_task"])


# -- forms -----------------------------------------------------------------------------------------

@pytest.fixture
def forms_copy(tmp_path) -> Path:
    shutil.copytree(FORMS, tmp_path / "forms")
    return tmp_path / "forms"


def test_a_form_that_is_not_a_valid_json_schema_is_reported_with_its_file(forms_copy):
    path = forms_copy / "notify.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    field = next(iter(schema["properties"]))
    schema["properties"][field]["type"] = "strang"
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")

    registry = ProcessRegistry(BROKEN, FormLibrary(forms_copy))
    found = [p for p in registry.report.problems if p.file.endswith("notify.json")]
    assert len(found) == 1
    assert Path(found[0].file) == path
    assert found[0].element_id == f"properties/{field}/type"
    assert "not a valid JSON Schema" in found[0].message and "'strang'" in found[0].message
    assert "notify" not in registry.forms
    # No category of the corpus uses that form: the good ones still load.
    assert sorted(registry.categories) == list(VALID)


def test_a_form_with_a_json_syntax_error_is_reported_with_its_line(forms_copy):
    path = forms_copy / "notify.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    broken_at = next(n for n, text in enumerate(lines) if '"title"' in text)
    lines[broken_at] = lines[broken_at].rstrip(",")  # drop the comma: the next line is unexpected
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    registry = ProcessRegistry(BROKEN, FormLibrary(forms_copy))
    found = [p for p in registry.report.problems if p.file.endswith("notify.json")]
    assert len(found) == 1
    assert found[0].line == broken_at + 2  # 1-based line after the one that lost its comma
    assert "JSON syntax" in found[0].message


def test_a_broken_form_takes_out_every_category_whose_tasks_use_it(forms_copy):
    path = forms_copy / "accept.json"
    path.write_text('{"type": 5}', encoding="utf-8")
    registry = ProcessRegistry(BROKEN, FormLibrary(forms_copy))
    assert any(p.file.endswith("accept.json") for p in registry.report.problems)
    valid = BROKEN / "valid" / "valid.bpmn"
    problem = the_problem(registry, "valid")
    assert_problem(problem, valid, id_line(valid, "accept"), "accept",
                   "form 'accept' does not exist in forms/ (or is broken)")
    assert registry.categories == {}


# -- reload and caching ----------------------------------------------------------------------------

def test_reload_after_fixing_a_file_makes_the_category_appear(tree):
    registry = ProcessRegistry(tree, FormLibrary(FORMS))
    assert "missing_deadline" not in registry.categories
    bpmn = tree / "missing_deadline" / "missing_deadline.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    role = '          <spiffworkflow:property name="role" value="clerk" />\n'
    assert role in text
    bpmn.write_text(text.replace(role, role + '          <spiffworkflow:property name="deadline" value="2 工作日" />\n'),
                    encoding="utf-8")

    report = registry.reload()
    assert report is registry.report
    assert "missing_deadline" in registry.categories
    assert problems_of(registry, "missing_deadline", tree) == []
    bundle = registry.category("missing_deadline").bundle
    assert bundle.tasks["accept"].deadline == Duration.parse("2 工作日")
    run_to_end(bundle, ["accept"])
    # The other broken folders are still reported, the good ones still there.
    assert "bad_script" not in registry.categories
    assert {"valid", "uses_library"} <= set(registry.categories)


def test_reload_after_breaking_a_file_leaves_the_category_out_whole(tree):
    registry = ProcessRegistry(tree, FormLibrary(FORMS))
    old = registry.category("valid").bundle
    bpmn = tree / "valid" / "valid.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('value="clerk"', 'value="janitor"'), encoding="utf-8")
    registry.reload()
    assert "valid" not in registry.categories
    assert "uses_library" in registry.categories
    problem = the_problem(registry, "valid", tree)
    assert_problem(problem, bpmn, id_line(bpmn, "accept"), "accept", "role 'janitor' is unknown")
    # Cases started on the earlier version can still find it.
    assert registry.bundle(old.hash) is old


def test_reload_without_changes_reuses_the_parsed_bundle(tree):
    registry = ProcessRegistry(tree, FormLibrary(FORMS))
    before = {code: registry.category(code).bundle for code in VALID}
    registry.reload()
    for code in VALID:
        assert registry.category(code).bundle is before[code]
        assert registry.bundle(before[code].hash) is before[code]
        assert registry.category(code).spec_hash == before[code].hash


def test_a_changed_file_gets_a_new_bundle_and_keeps_the_old_one(tree):
    registry = ProcessRegistry(tree, FormLibrary(FORMS))
    valid_before = registry.category("valid").bundle
    library_before = registry.category("uses_library").bundle
    library_file = tree / "library" / "review.bpmn"
    library_file.write_text(library_file.read_text(encoding="utf-8").replace('value="1 工作日"', 'value="3 工作日"'),
                            encoding="utf-8")
    registry.reload()
    library_after = registry.category("uses_library").bundle
    # The library file is part of its callers' definition, not of the others'.
    assert library_after is not library_before
    assert library_after.hash != library_before.hash
    assert registry.category("valid").bundle is valid_before
    assert registry.bundle(library_before.hash) is library_before
    assert registry.bundle(library_after.hash) is library_after
    assert registry.bundle("0" * 64) is None


def test_reload_does_not_parse_unchanged_categories_again(tree, monkeypatch):
    import engine.registry as registry_module

    registry = ProcessRegistry(tree, FormLibrary(FORMS))
    parsed = []
    real_parse = registry_module._parse
    monkeypatch.setattr(registry_module, "_parse", lambda pid, *a: parsed.append(pid) or real_parse(pid, *a))
    registry.reload()
    assert parsed == []
    bpmn = tree / "valid" / "valid.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="受理审查"', 'name="受理"'), encoding="utf-8")
    registry.reload()
    assert parsed == ["valid_process"]
    assert registry.category("valid").bundle.tasks["accept"].name == "受理"


# -- the real definitions ----------------------------------------------------------------------------

def test_the_real_processes_have_no_problems_at_all():
    registry = ProcessRegistry(ROOT / "processes", FormLibrary(FORMS))
    assert registry.report.problems == [], "\n".join(map(str, registry.report.problems))
    assert registry.forms.problems == []
    assert "neighbour" in registry.categories
    assert registry.category("neighbour").bundle.spec is not None
