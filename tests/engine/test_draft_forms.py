"""Forms edited inside a process draft: a designer changes the 调处 form of the neighbour category,
the draft's lint reports schema problems where they are, and publishing makes the edited form part
of the new version only — cases already running keep the form they started with."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.actors import Actor
from engine.draft_files import DraftFileError, check_file_name
from engine.draft_forms import check_schema_text, minimal_schema, pointer_line, schema_text, used_forms
from engine.drafts import compare, download, open_draft, publish_draft, save_draft
from engine.errors import FormInvalid, VersionError
from engine.models import ProcessDraft, ProcessVersion
from engine.runtime import CaseRuntime
from tests.engine.scenario import CaseScenario
from tests.engine.variant_trees import staff_at

ROOT = Path(__file__).resolve().parents[2]
JIUYUAN, DONGHE = "150207", "150202"
WANG = Actor.of("wang", {"designer"}, "", "王设计")
DONGHE_DESIGNER = Actor.of("zhao", {"designer"}, DONGHE, "赵设计")
RECORD = "调解记录：双方同意修复。"


def library_schema(name: str) -> dict:
    return json.loads((ROOT / "forms" / f"{name}.json").read_text(encoding="utf-8"))


def mediate_with_place() -> dict:
    """The 调处 form asking where the mediation took place, as a required field."""
    schema = library_schema("mediate")
    schema["properties"]["mediation_place"] = {"type": "string", "title": "调解地点", "maxLength": 50}
    schema["required"].append("mediation_place")
    return schema


def test_a_published_form_edit_serves_new_cases_while_a_running_case_keeps_the_old_form(sessions, clock, registry):
    runtime = CaseRuntime(registry, clock)
    staff = staff_at(JIUYUAN)
    running = CaseScenario(sessions, runtime, staff, clock)
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        files = {**draft.files, "forms/mediate.json": schema_text(mediate_with_place())}
        saved = save_draft(session, registry, draft.id, files, draft.revision, WANG, clock.now(), "调处表单增加调解地点")
        assert saved.problems == []
        assert compare(session, registry, draft.id).files_changed == ["forms/mediate.json"]
        published = publish_draft(session, registry, draft.id, WANG, clock.now(), "调处表单增加调解地点")
        session.commit()
        version = session.get(ProcessVersion, published.published_version_id)
    fresh = CaseScenario(sessions, runtime, staff, clock)
    with sessions() as session:
        old_case, new_case = running.case(), fresh.case()
        assert new_case.spec_hash == version.spec_hash != old_case.spec_hash
        old_form = runtime.form(session, old_case, "mediate")
        new_form = runtime.form(session, new_case, "mediate")
        answer = {"mediation_outcome": "success", "mediation_record": RECORD}
        assert old_form.validate(answer) == answer
        with pytest.raises(FormInvalid) as refused:
            new_form.validate(answer)
        assert [(e.field, e.message) for e in refused.value.errors] == [("mediation_place", "必填")]
        assert new_form.validate({**answer, "mediation_place": "村委会"})
        assert "mediation_place" not in old_form.schema["properties"]
    with sessions() as session:
        # The next draft of the base starts from the published version: the edited form comes with it.
        again = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        assert json.loads(again.files["forms/mediate.json"]) == mediate_with_place()
        assert "mediation_place" not in registry.forms.get("mediate").schema["properties"]  # forms/ unchanged


def test_a_countys_form_edit_is_its_own_and_the_base_keeps_the_library_form(sessions, clock, registry):
    runtime = CaseRuntime(registry, clock)
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", DONGHE, DONGHE_DESIGNER, clock.now())
        files = {**draft.files, "forms/mediate.json": schema_text(mediate_with_place())}
        saved = save_draft(session, registry, draft.id, files, draft.revision, DONGHE_DESIGNER, clock.now())
        assert saved.problems == []
        # 东河区 asks for four eyes in its variant.toml; this deployment lets its designers publish alone.
        publish_draft(session, registry, draft.id, DONGHE_DESIGNER, clock.now(), "东河区调处表单增加调解地点",
                      four_eyes={DONGHE: False})
        session.commit()
    donghe = CaseScenario(sessions, runtime, staff_at(DONGHE), clock, jurisdiction=DONGHE)
    jiuyuan = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock)
    with sessions() as session:
        assert "mediation_place" in runtime.form(session, donghe.case(), "mediate").schema["properties"]
        assert "mediation_place" not in runtime.form(session, jiuyuan.case(), "mediate").schema["properties"]


def test_schema_problems_are_reported_at_the_form_file_with_line_and_pointer(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        schema = mediate_with_place()
        schema["properties"]["mediation_place"]["maxLength"] = -1
        text = schema_text(schema)
        saved = save_draft(session, registry, draft.id, {**draft.files, "forms/mediate.json": text}, draft.revision,
                           WANG, clock.now())
        line = next(n for n, row in enumerate(text.splitlines(), 1) if '"maxLength": -1' in row)
        assert [(p["file"], p["line"], p["element_id"], p["message"]) for p in saved.problems
                if p["file"].startswith("forms/")] == [
            ("forms/mediate.json", line, "properties/mediation_place/maxLength",
             "not a valid JSON Schema: -1 is less than the minimum of 0")]
        # The task using the form cannot load it either: said at the task, as `fengqiao check` says it.
        assert any(p["element_id"] == "mediate" and "form 'mediate' does not exist" in p["message"]
                   for p in saved.problems)
        with pytest.raises(VersionError, match="forms/mediate.json"):
            publish_draft(session, registry, draft.id, WANG, clock.now(), "坏的表单")

        broken = text.replace('"title": "调解地点",', '"title": "调解地点"', 1)
        saved = save_draft(session, registry, draft.id, {**draft.files, "forms/mediate.json": broken},
                           saved.revision, WANG, clock.now())
        syntax = [p for p in saved.problems if p["file"] == "forms/mediate.json"]
        assert len(syntax) == 1 and syntax[0]["message"].startswith("JSON syntax: Expecting ',' delimiter")
        assert syntax[0]["line"] == line


def test_a_new_form_is_checked_with_the_draft_and_an_unused_one_is_pointed_out(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        schema = minimal_schema("回访记录")
        schema["properties"]["visit_note"] = {"type": "string", "title": "回访情况", "x-widget": "textarea"}
        files = {**draft.files, "forms/visit_record.json": schema_text(schema)}
        saved = save_draft(session, registry, draft.id, files, draft.revision, WANG, clock.now())
        assert [(p["file"], p["severity"]) for p in saved.problems] == [("forms/visit_record.json", "warning")]
        assert "not used by any user task" in saved.problems[0]["message"]

        files["neighbour.bpmn"] = files["neighbour.bpmn"].replace(
            '<spiffworkflow:property name="form" value="notify" />',
            '<spiffworkflow:property name="form" value="visit_record" />', 1)
        saved = save_draft(session, registry, draft.id, files, saved.revision, WANG, clock.now())
        assert saved.problems == []
        assert used_forms(saved.files, "intake")["visit_record"] == [("notify_result", "结果告知")]
        assert download(session, draft.id, "forms/visit_record.json") == files["forms/visit_record.json"]


def test_a_form_of_a_called_library_process_is_the_categorys_too(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        used = used_forms(draft.files, "intake", ROOT / "processes" / "library")
        assert used["follow_up"] == [("follow_up", "回访")] and "second_supervision" in used
        schema = library_schema("follow_up")
        schema["title"] = "电话回访"
        saved = save_draft(session, registry, draft.id, {**draft.files, "forms/follow_up.json": schema_text(schema)},
                           draft.revision, WANG, clock.now())
        assert saved.problems == []  # used through the call activity: no "not used" warning


@pytest.mark.parametrize("name", ["forms/../mediate.json", "forms/Mediate.json", "forms/a/b.json", "forms/1st.json",
                                  "forms/mediate.txt", "mediate.json", "../neighbour.bpmn"])
def test_a_draft_holds_forms_only_as_forms_slash_name_dot_json(name):
    with pytest.raises(DraftFileError, match="forms/<name>.json"):
        check_file_name(name)
    assert check_file_name("forms/mediate_v2.json") == "forms/mediate_v2.json"


def test_a_refused_file_name_stores_nothing(sessions, clock, registry):
    with sessions() as session:
        draft = open_draft(session, registry, "neighbour", "", WANG, clock.now())
        with pytest.raises(DraftFileError, match="forms/Bad.json"):
            save_draft(session, registry, draft.id, {**draft.files, "forms/Bad.json": "{}"}, draft.revision, WANG,
                       clock.now())
        session.commit()
        draft_id = draft.id
    with sessions() as session:
        stored = session.get(ProcessDraft, draft_id)
        assert stored.revision == 1 and "forms/Bad.json" not in stored.files


def test_schema_text_errors_name_the_line_and_the_pointer():
    text = '{\n  "type": "object",\n  "properties": {\n    "age": {"type": "integr"}\n  }\n}\n'
    schema, problem = check_schema_text("forms/x.json", text)
    assert schema is None and (problem.line, problem.element_id) == (4, "properties/age/type")
    schema, problem = check_schema_text("forms/x.json", '{"type": "object",\n "properties": {"a": true}}')
    assert (problem.line, problem.element_id) == (2, "properties/a")
    schema, problem = check_schema_text("forms/x.json", "[1, 2")
    assert problem.line == 1 and problem.message.startswith("JSON syntax")
    assert check_schema_text("forms/x.json", schema_text(minimal_schema("空表单"))) == (minimal_schema("空表单"), None)
    assert pointer_line('{"a": [1,\n 2, {"b":\n 3}]}', ["a", 2, "b"]) == 2
    assert pointer_line('{"a": 1}', ["missing"]) is None
