"""`fengqiao check`: one line per problem, a summary, exit 1 on errors."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.forms import FormLibrary
from engine.registry import ProcessRegistry
from fengqiao.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
BROKEN = ROOT / "tests" / "fixtures" / "broken"
SUMMARY = re.compile(r"^(\d+) categories loaded \((.*)\); (\d+) errors, (\d+) warnings$")


def check(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(["check", *argv])
    return code, capsys.readouterr().out.splitlines()


def line_with(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text)


def test_real_processes_pass(capsys):
    code, lines = check(capsys, str(PROCESSES), "--forms", str(FORMS))
    assert code == 0
    assert len(lines) == 1, lines  # no problem lines, only the summary
    assert_every_category_loaded(lines[0])


def test_real_processes_pass_with_the_default_forms_folder(capsys):
    code, lines = check(capsys, str(PROCESSES))
    assert code == 0
    assert_every_category_loaded(lines[-1])


def assert_every_category_loaded(summary: str) -> None:
    folders = sorted(p.name for p in PROCESSES.iterdir() if (p / "category.toml").exists())
    match = SUMMARY.match(summary)
    assert match, summary
    assert int(match.group(1)) == len(folders)
    assert match.group(2).split(", ") == folders
    assert (match.group(3), match.group(4)) == ("0", "0")


def test_broken_corpus_fails_and_prints_every_problem(capsys):
    code, lines = check(capsys, str(BROKEN), "--forms", str(FORMS))
    assert code == 1
    expected = ProcessRegistry(BROKEN, FormLibrary(FORMS)).report
    *problem_lines, summary = lines
    assert problem_lines == [f"error: {p}" for p in expected.problems]
    match = SUMMARY.match(summary)
    assert match, summary
    assert match.groups() == ("2", "uses_library, valid", str(len(expected.problems)), "0")
    # Every broken folder shows up in the output.
    folders = {p.name for p in BROKEN.iterdir() if p.is_dir()} - {"valid", "uses_library"}
    for folder in folders:
        assert any(f"/{folder}/" in line for line in problem_lines), folder


@pytest.mark.parametrize("folder, file, needle, element_id, message", [
    ("bad_script", "bad_script.bpmn", "x = = 1", "compute", "script: invalid syntax"),
    ("dangling_ref", "dangling_ref.bpmn", 'id="flow_1"', "flow_1", "targetRef 'nowhere' points to no element in this file"),
    ("complex_gateway", "complex_gateway.bpmn", 'id="merge_complex"', "merge_complex",
     "unsupported element bpmn:complexGateway: complex gateways are not supported by the engine"),
    ("unquoted_timer", "unquoted_timer.bpmn", 'id="accept_reminder"', "accept_reminder",
     'unquoted timer literal PT2S: write "PT2S" (timer expressions are Python)'),
    ("escape_import", "escape_import.bpmn", "import os", "compute", "script: import is not allowed in process scripts"),
    ("missing_deadline", "missing_deadline.bpmn", 'id="accept"', "accept",
     "user task needs spiffworkflow properties deadline"),
    ("dangling_call", "dangling_call.bpmn", 'id="call_review"', "call_review",
     "calledElement 'no_such_process': no process with that id in this category or in library/"),
    ("toml_syntax", "category.toml", 'name "', "-",
     "TOML syntax: Expected '=' after a key in a key/value pair (at line 2, column 6)"),
])
def test_broken_problem_line_format(capsys, folder, file, needle, element_id, message):
    path = BROKEN / folder / file
    _, lines = check(capsys, str(BROKEN), "--forms", str(FORMS))
    assert f"error: {path}:{line_with(path, needle)} {element_id}: {message}" in lines


def test_a_relative_processes_path_is_printed_as_given(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    _, lines = check(capsys, "tests/fixtures/broken", "--forms", "forms")
    path = BROKEN / "escape_dunder" / "escape_dunder.bpmn"
    line = line_with(path, "__subclasses__")
    assert any(l.startswith(f"error: tests/fixtures/broken/escape_dunder/escape_dunder.bpmn:{line} compute: ")
               for l in lines)


def test_warnings_alone_do_not_fail(capsys, tmp_path):
    """A timer date without a UTC offset is a warning: printed, counted, exit 0."""
    shutil.copytree(BROKEN / "valid", tmp_path / "processes" / "valid")
    shutil.copytree(BROKEN / "unquoted_timer", tmp_path / "processes" / "dated_timer")
    folder = tmp_path / "processes" / "dated_timer"
    (folder / "category.toml").write_text(
        (folder / "category.toml").read_text(encoding="utf-8").replace('"unquoted_timer"', '"dated_timer"'),
        encoding="utf-8")
    bpmn = folder / "unquoted_timer.bpmn"
    text = bpmn.read_text(encoding="utf-8").replace(
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT2S</bpmn:timeDuration>',
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2026-03-02T09:00:00"</bpmn:timeDate>')
    bpmn.write_text(text, encoding="utf-8")

    code, lines = check(capsys, str(tmp_path / "processes"), "--forms", str(FORMS))
    assert code == 0
    line = line_with(bpmn, 'id="accept_reminder"')
    assert lines == [
        f"warning: {bpmn}:{line} accept_reminder: timer date '2026-03-02T09:00:00' has no UTC offset; add +08:00",
        "2 categories loaded (dated_timer, valid); 0 errors, 1 warnings",
    ]


def test_a_missing_folder_exits_2(capsys, tmp_path):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err
