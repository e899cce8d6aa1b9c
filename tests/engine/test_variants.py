"""County variants: a jurisdiction overrides what it needs; everything else walks up to the base."""
from __future__ import annotations

import json
from datetime import date

import pytest

from engine.calendar import Duration, WorkingCalendar
from engine.calendar_store import load_calendar, set_override
from engine.errors import FormInvalid
from engine.models import Jurisdiction, ProcessVersion
from engine.runtime import CaseRuntime
from engine.variant_lookup import ancestors
from fengqiao.cli import main
from tests.conftest import ROOT
from tests.engine.scenario import CaseScenario, end_of_day
from tests.engine.variant_trees import append, copy_processes, edit, load, staff_at, write

DONGHE = "150202"  # 包头市东河区: variants/150202 (five colours, 20-day neighbour mediation)
DONGHE_VILLAGE = "150202001001"
JIUYUAN = "150207"  # 九原区: no variant of its own


# -- the walk up the tree ------------------------------------------------------------------------

def test_the_chain_walks_from_a_village_through_county_city_and_province_to_the_base(sessions):
    assert ancestors(None, DONGHE_VILLAGE) == [DONGHE_VILLAGE, "150202001", DONGHE, "150200", "150000", ""]
    assert ancestors(None, "150000") == ["150000", ""]
    assert ancestors(None, "") == [""]
    with sessions() as session:
        # The tree table wins where it knows a code: a development zone filed under the city.
        session.add_all([Jurisdiction(code="150200", name="包头市", level="city", parent_code=None),
                         Jurisdiction(code="150271", name="稀土高新区", level="county", parent_code="150200")])
        session.commit()
        assert ancestors(session, "150271001") == ["150271001", "150271", "150200", "150000", ""]


def test_a_village_gets_its_countys_variant_and_another_county_keeps_the_base(registry):
    neighbour = registry.category("neighbour")
    village = registry.variants.resolve("neighbour", ancestors(None, DONGHE_VILLAGE))
    county = registry.variants.resolve("neighbour", ancestors(None, DONGHE))
    other = registry.variants.resolve("neighbour", ancestors(None, JIUYUAN))
    assert village.hash == county.hash != neighbour.spec_hash
    assert village.levels == ("150200", DONGHE)
    assert village.bundle().tasks["mediate"].deadline == Duration.parse("20 日")
    # 包头市 declares the four colours the base already has: nothing of its own for 九原区.
    assert other.hash == neighbour.spec_hash
    assert other.bundle() is neighbour.bundle
    assert not registry.variants.defines("neighbour", ancestors(None, "150200"))
    assert registry.variants.defines("neighbour", ancestors(None, DONGHE))
    assert not registry.variants.defines("neighbour", ancestors(None, DONGHE_VILLAGE))


def test_a_category_without_a_variant_keeps_the_base_where_no_setting_touches_it(registry):
    # 劳动争议 has no risk colour field: 东河区's colour scheme changes nothing there.
    labour = registry.variants.resolve("labour", ancestors(None, DONGHE))
    assert labour.hash == registry.category("labour").spec_hash
    assert not registry.variants.defines("labour", ancestors(None, DONGHE))


def test_the_colour_scheme_is_offered_and_accepted_where_it_is_in_force(registry):
    five = registry.variants.resolve("neighbour", ancestors(None, DONGHE)).bundle()
    four = registry.category("neighbour").bundle
    colours = lambda bundle: [o["const"] for o in bundle.forms["assess"]["properties"]["risk_color"]["oneOf"]]
    assert colours(five) == ["红", "橙", "黄", "蓝", "绿"]
    assert colours(four) == ["红", "橙", "黄", "蓝"]
    green = {"risk_color": "绿", "complexity": "simple", "assessment": "邻里小事"}
    assert five.form("assess").validate(green) == green
    with pytest.raises(FormInvalid):
        four.form("assess").validate(green)


# -- what a variant changes in a running case ----------------------------------------------------

def test_a_limits_override_shortens_the_mediation_deadline_and_its_timers(sessions, runtime, clock):
    donghe = CaseScenario(sessions, runtime, staff_at(DONGHE_VILLAGE), clock, jurisdiction=DONGHE_VILLAGE)
    jiuyuan = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock, jurisdiction=JIUYUAN)
    for case in (donghe, jiuyuan):
        case.do_all("accept", "assess", "dispatch")
    started = donghe.task("mediate").created_at
    assert donghe.task("mediate").deadline == "20 日"
    # 20 日 from Monday 2 March ends Sunday 22 March: a limit ending on a rest day runs to the next working day.
    assert donghe.task("mediate").due_at == end_of_day(2026, 3, 23)
    assert jiuyuan.task("mediate").deadline == "30 日"
    assert jiuyuan.task("mediate").due_at == end_of_day(2026, 4, 1)
    warning = {t.kind: t.due_at for t in donghe.timers()}
    assert warning["overdue"] == end_of_day(2026, 3, 23)
    assert warning["warning"] == WorkingCalendar().warning(started, Duration.parse("20 日"), 0.7).due
    with sessions() as session:
        version = session.get(ProcessVersion, donghe.case().process_version_id)
        assert (version.jurisdiction_code, version.settings["limits"]) == (
            DONGHE, {"mediate": {"deadline": "20 日", "warn_share": "0.7"}})
        assert session.get(ProcessVersion, jiuyuan.case().process_version_id).jurisdiction_code == ""


def test_a_form_override_applies_to_the_county_and_below_only(sessions, clock, tmp_path):
    processes = copy_processes(tmp_path)
    schema = json.loads((ROOT / "forms" / "assess.json").read_text(encoding="utf-8"))
    schema["properties"]["assessment"]["maxLength"] = 10
    write(processes / "variants" / DONGHE / "forms" / "assess.json", json.dumps(schema, ensure_ascii=False))
    runtime = CaseRuntime(load(processes), clock)
    long_text = {"risk_color": "黄", "complexity": "ordinary", "assessment": "双方各执一词，需要进一步调查取证"}
    donghe = CaseScenario(sessions, runtime, staff_at(DONGHE_VILLAGE), clock, jurisdiction=DONGHE_VILLAGE)
    donghe.do("accept")
    with pytest.raises(FormInvalid) as caught:
        donghe.do("assess", long_text)
    assert [e.field for e in caught.value.errors] == ["assessment"]
    jiuyuan = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock, jurisdiction=JIUYUAN)
    jiuyuan.do("accept")
    jiuyuan.do("assess", long_text)
    assert jiuyuan.ready() == ["dispatch"]


def test_a_routing_table_override_and_a_department_map_rename_where_cases_go(sessions, clock, tmp_path):
    processes = copy_processes(tmp_path)
    routing = write(processes / "variants" / DONGHE / "neighbour" / "routing.dmn",
                    (processes / "neighbour" / "routing.dmn").read_text(encoding="utf-8"))
    edit(routing, '<text>"village"</text>', '<text>"township"</text>')  # 东河区: nothing stays in the village
    edit(processes / "variants" / "150200" / "variant.toml", 'risk_colours = ["红", "橙", "黄", "蓝"]',
         'risk_colours = ["红", "橙", "黄", "蓝"]\n\n[department_map]\n"村人民调解委员会" = "包头市人民调解中心"')
    runtime = CaseRuntime(load(processes), clock)
    donghe = CaseScenario(sessions, runtime, staff_at(DONGHE_VILLAGE), clock, jurisdiction=DONGHE_VILLAGE)
    # 青山区 runs the city's neighbour process (昆都仑区 has its own 六步法, without this routing table).
    qingshan = CaseScenario(sessions, runtime, staff_at("150204"), clock, jurisdiction="150204")
    jiuyuan = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock, jurisdiction=JIUYUAN)
    for case in (donghe, qingshan, jiuyuan):
        case.do_all("accept", "assess")
    proposals = [case.task("dispatch").form_defaults for case in (donghe, qingshan, jiuyuan)]
    assert [(p["handling_level"], p["department"]) for p in proposals] == [
        ("township", "包头市人民调解中心"),  # 东河区's table, the city's department name
        ("village", "包头市人民调解中心"),  # 青山区: the city's name only
        ("village", "包头市人民调解中心"),  # 九原区 is in 包头市 as well
    ]


def test_a_county_template_replaces_the_base_template_for_its_cases(sessions, clock, tmp_path):
    processes = copy_processes(tmp_path)
    write(processes / "variants" / DONGHE / "documents" / "acceptance_notice.html",
          '{% extends "_base.html" %}{% block body %}<p>东河区受理告知：{{ case.code }}</p>{% endblock %}')
    runtime = CaseRuntime(load(processes), clock)
    donghe = CaseScenario(sessions, runtime, staff_at(DONGHE_VILLAGE), clock, jurisdiction=DONGHE_VILLAGE)
    jiuyuan = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock, jurisdiction=JIUYUAN)
    for case in (donghe, jiuyuan):
        case.do("accept")
    donghe_html = [d.html for d in donghe.documents() if d.doc_type == "acceptance_notice"][0]
    jiuyuan_html = [d.html for d in jiuyuan.documents() if d.doc_type == "acceptance_notice"][0]
    assert f"东河区受理告知：{donghe.case().code}" in donghe_html
    assert "东河区受理告知" not in jiuyuan_html


# -- calendar rulings ----------------------------------------------------------------------------

def test_the_nearest_calendar_ruling_wins(sessions, tmp_path, clock):
    processes = copy_processes(tmp_path)
    append(processes / "variants" / DONGHE / "variant.toml", '\n[calendar]\n"2026-03-03" = "rest"  # local holiday (test)\n')
    registry = load(processes)
    files = registry.variants.calendar_rulings()
    tuesday, wednesday = date(2026, 3, 3), date(2026, 3, 4)
    with sessions() as session:
        assert not load_calendar(session, DONGHE_VILLAGE, files).is_workday(tuesday)
        assert load_calendar(session, JIUYUAN, files).is_workday(tuesday)
        set_override(session, wednesday, False, "全市停工（测试）", "admin", clock.now())
        set_override(session, wednesday, True, "东河区照常上班", "admin", clock.now(), jurisdiction_code=DONGHE)
        set_override(session, tuesday, True, "改为上班", "admin", clock.now(), jurisdiction_code=DONGHE)
        session.commit()
        assert not load_calendar(session, JIUYUAN, files).is_workday(wednesday)
        assert load_calendar(session, DONGHE_VILLAGE, files).is_workday(wednesday)
        assert load_calendar(session, DONGHE_VILLAGE, files).is_workday(tuesday)  # the table over the file


def test_a_case_counts_working_days_with_its_jurisdictions_calendar(sessions, clock, tmp_path):
    processes = copy_processes(tmp_path)
    append(processes / "variants" / DONGHE / "variant.toml", '\n[calendar]\n"2026-03-03" = "rest"\n')
    runtime = CaseRuntime(load(processes), clock)
    donghe = CaseScenario(sessions, runtime, staff_at(DONGHE_VILLAGE), clock, jurisdiction=DONGHE_VILLAGE)
    jiuyuan = CaseScenario(sessions, runtime, staff_at(JIUYUAN), clock, jurisdiction=JIUYUAN)
    assert jiuyuan.task("accept").due_at == end_of_day(2026, 3, 3)
    assert donghe.task("accept").due_at == end_of_day(2026, 3, 4)  # 3 March is a rest day in 东河区


# -- lint ------------------------------------------------------------------------------------------

def test_a_bad_limits_file_is_reported_by_line_and_the_county_keeps_the_base(tmp_path, capsys):
    processes = copy_processes(tmp_path)
    limits = write(processes / "variants" / DONGHE / "neighbour" / "limits.toml",
                   '[tasks.mediate]\ndeadline = "20 日"\n\n[tasks.mediat]\ndeadline = "15 日"\n\n'
                   '[tasks.assess]\nwarn_share = 1.5\n\n[tasks.accept]\ndeadline = "三日"\n\n'
                   '[tasks.accept_gateway]\ndeadline = "3 日"\n')
    registry = load(processes)
    lines = [str(p) for p in registry.report.errors]
    assert f"{limits}:5 mediat: no element 'mediat' in neighbour (its BPMN files and the library processes it calls)" \
        in lines
    assert f"{limits}:8 assess: warn_share 1.5 must be a number between 0 and 1, e.g. 0.7" in lines
    assert any(line.startswith(f"{limits}:11 accept: deadline: duration '三日' is not understood") for line in lines)
    assert f"{limits}:14 accept_gateway: 'accept_gateway' is a bpmn:exclusiveGateway; limits apply to user tasks" \
        in lines
    # Left out: 东河区 runs neighbour disputes as the base defines them.
    definition = registry.variants.resolve("neighbour", ancestors(None, DONGHE))
    assert definition.hash == registry.category("neighbour").spec_hash

    assert main(["check", str(processes), "--forms", str(ROOT / "forms")]) == 1
    out = capsys.readouterr().out
    assert f"error: {limits}:5 mediat: no element 'mediat'" in out


def test_variant_files_are_linted_like_the_base(tmp_path):
    processes = copy_processes(tmp_path)
    bpmn = write(processes / "variants" / DONGHE / "neighbour" / "neighbour.bpmn",
                 (processes / "neighbour" / "neighbour.bpmn").read_text(encoding="utf-8"))
    edit(bpmn, '<spiffworkflow:property name="form" value="mediate" />',
         '<spiffworkflow:property name="form" value="no_such_form" />')
    write(processes / "variants" / "150203" / "variant.toml", 'name = "昆都仑区"\nrisk_colours = "红"\n')
    write(processes / "variants" / "15020" / "variant.toml", 'name = "?"\n')
    write(processes / "variants" / "150205" / "variant.toml", 'name = "石拐区"\n')
    write(processes / "variants" / "150205" / "nosuch" / "limits.toml", "")
    registry = load(processes)
    lines = [str(p) for p in registry.report.errors]
    mediate_line = next(n for n, text in enumerate(bpmn.read_text(encoding="utf-8").splitlines(), 1)
                        if 'id="mediate"' in text)
    assert f"{bpmn}:{mediate_line} mediate: form 'no_such_form' does not exist in forms/ (or is broken)" in lines
    assert any(line.startswith(f"{processes}/variants/150203/variant.toml:2 -: risk_colours is a list") for line in lines)
    assert any("variants/15020:? -: a variant folder is named by a 行政区划代码" in line for line in lines)
    assert any("variants/150205/nosuch:? -: variant of 'nosuch' ignored" in line for line in lines)
    assert "150203" not in registry.variants and "150205" in registry.variants
    # The broken neighbour.bpmn leaves 东河区 with what it inherits: the base (its colours included).
    assert registry.variants.resolve("neighbour", ancestors(None, DONGHE)).hash == registry.category("neighbour").spec_hash
    assert registry.variants.resolve("business", ancestors(None, DONGHE)).settings["risk_colours"] == [
        "红", "橙", "黄", "蓝", "绿"]  # the other categories keep 东河区's colours


def test_the_real_variants_are_clean(registry):
    problems = [p for p in registry.report.problems if "/variants/" in p.file]
    assert problems == []
    # The seed localities (docs/localities.md), each with its own variant folder.
    assert sorted(registry.variants.variants) == ["150200", DONGHE, "150203", "150204", "150207", "150222",
                                                  "150621001", "150621100", "620902", "621024"]
    assert registry.variants.get(DONGHE).name == "东河区"
