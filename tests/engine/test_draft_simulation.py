"""模拟运行: a designer runs a draft on a fake clock before publishing it and sees, path by path,
which tasks come, who gets them and by when — and the real database is left as it was."""
from __future__ import annotations

import time
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine import people
from engine.actors import Actor
from engine.calendar import SHANGHAI
from engine.calendar_store import set_override
from engine.category_creation import create_category
from engine.draft_files import effective_files
from engine.draft_simulation import SimulationInputError, default_answers, simulate
from engine.models import Base
from engine.variant_lookup import ancestors
from tests.engine.org import CENTERS, COUNTY, TOWNSHIP, VILLAGE, build_tree

# Thursday 30 April 2026, 09:00 in Baotou: 1 to 5 May are the 劳动节 holiday.
BEFORE_LABOUR_DAY = datetime(2026, 4, 30, 9, 0, tzinfo=SHANGHAI)
STAFF = [("wang", "王受理", "clerk", COUNTY), ("li", "李研判", "analyst", COUNTY), ("zhao", "赵主任", "director", COUNTY),
         ("zhang", "张调解", "mediator", VILLAGE), ("liu", "刘调解", "mediator", TOWNSHIP)]


@pytest.fixture
def county(sessions):
    """九原区 with its township and village and the people working there."""
    build_tree(sessions)
    with sessions() as session:
        for username, name, role, code in STAFF:
            user = people.save_user(session, username, name, code, password="simulation-1")
            session.flush()
            people.grant(session, user, role, code)
        session.commit()


@pytest.fixture
def neighbour_files(sessions, registry):
    with sessions() as session:
        return effective_files(registry, "neighbour", ancestors(session, COUNTY))[1]


def run(sessions, registry, files, **options):
    with sessions() as session:
        return simulate(session, registry, "neighbour", COUNTY, files, start=options.pop("start", BEFORE_LABOUR_DAY),
                        **options)


def edited(files, old, new):
    assert old in files["neighbour.bpmn"], old
    return {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace(old, new, 1)}


def path_with(report, choice):
    return next(path for path in report.paths if choice in path.choices)


def test_every_branch_of_the_neighbour_process_is_taken_and_each_task_is_offered_to_named_people(
        sessions, registry, county, neighbour_files):
    started = time.monotonic()
    report = run(sessions, registry, neighbour_files)
    elapsed = time.monotonic() - started

    assert report.ran and report.place == VILLAGE and report.place_name == "新河村"
    assert not report.capped and report.unreached == []
    assert elapsed < 20, f"simulating the neighbour category took {elapsed:.1f} s"

    rejected = path_with(report, "受理审查：是否受理 = 否")
    assert (rejected.status, rejected.status_name) == ("terminated", "已终止")
    assert [step.element_id for step in rejected.steps] == ["accept"]

    success = report.paths[0]  # every default answer: 调解成功
    assert success.choices == [] and success.status == "concluded"
    assert "agreement" in [step.element_id for step in success.steps]
    assert "调解协议书" in success.documents and "受理告知单" in success.documents
    accept = success.steps[0]
    assert (accept.name, accept.role, accept.role_name, accept.center_name, accept.candidates) == (
        "受理审查", "clerk", "窗口受理员", CENTERS[COUNTY], ("王受理",))
    assert accept.answer == {"accepted": True}

    # Routed down to the village (黄: ordinary), 调处 goes to the village station's mediator.
    village = path_with(report, "分析研判：风险等级 = 黄色（一般）")
    mediate = next(step for step in village.steps if step.element_id == "mediate")
    assert (mediate.center_code, mediate.center_name, mediate.candidates) == (VILLAGE, CENTERS[VILLAGE], ("张调解",))
    assert any(event.kind == "case_transferred" for event in village.events)

    # Left undone, 调处 is warned, then supervised (督办).
    waited = path_with(report, "调处：超时不办：等到 mediate_warning（临期预警）到期")
    assert any(event.kind == "timer_fired" and event.element_id == "mediate_warning" for event in waited.events)
    assert "工作提示函" in waited.documents


def test_deadlines_count_working_days_over_the_holiday_and_the_administrators_rulings(
        sessions, registry, county, neighbour_files):
    default = run(sessions, registry, neighbour_files, max_paths=1).paths[0]
    accept = default.steps[0]
    assert accept.limit == "1 工作日"
    assert accept.created_at == BEFORE_LABOUR_DAY
    assert accept.due_at == datetime(2026, 5, 6, 23, 59, 59, tzinfo=SHANGHAI)  # after 1–5 May
    assert accept.warn_at.date() == date(2026, 5, 5)
    mediate = next(step for step in default.steps if step.element_id == "mediate")
    # 30 日 would end on Saturday 30 May; a limit ending on a rest day runs to the next working day.
    assert (mediate.limit, mediate.due_at) == ("30 日", datetime(2026, 6, 1, 23, 59, 59, tzinfo=SHANGHAI))

    with sessions() as session:  # 九原区 declares 6 May a rest day as well
        set_override(session, date(2026, 5, 6), False, "区内调休", "admin", BEFORE_LABOUR_DAY, COUNTY)
        session.commit()
    ruled = run(sessions, registry, neighbour_files, max_paths=1).paths[0].steps[0]
    assert ruled.due_at == datetime(2026, 5, 7, 23, 59, 59, tzinfo=SHANGHAI)


def test_a_draft_with_an_error_is_not_run_and_its_problems_read_as_fengqiao_check_prints_them(
        sessions, registry, county, neighbour_files):
    broken = edited(neighbour_files, '<spiffworkflow:property name="form" value="accept"/>',
                    '<spiffworkflow:property name="form" value="no_such_form"/>')
    report = run(sessions, registry, broken)
    assert not report.ran and report.paths == [] and report.runs == 0
    assert any(problem.startswith("neighbour.bpmn:") and " accept: form 'no_such_form' does not exist" in problem
               for problem in report.problems), report.problems


def test_a_script_that_loops_forever_stops_its_path_at_the_element_and_the_next_simulation_runs(
        sessions, registry, county, neighbour_files):
    looping = edited(neighbour_files, "<bpmn:script>mediation_round = mediation_round + 1</bpmn:script>",
                     "<bpmn:script>while True:\n    pass</bpmn:script>")
    report = run(sessions, registry, looping)
    stopped = report.paths[0]
    assert stopped.status == "error" and stopped.error.element_id == "next_round"
    assert "script ran more than 100000 loop iterations (stopped)" in stopped.error.message
    assert [step.element_id for step in stopped.steps] == ["accept", "assess", "dispatch"]
    assert path_with(report, "受理审查：是否受理 = 否").status == "terminated"
    assert "mediate" in [element.element_id for element in report.unreached]

    again = run(sessions, registry, neighbour_files, max_paths=1)
    assert again.paths[0].status == "concluded"


def test_simulating_leaves_the_real_database_as_it_was(sessions, registry, county, neighbour_files):
    def counts():
        with sessions() as session:
            return {table.name: session.scalar(select(func.count()).select_from(table))
                    for table in Base.metadata.sorted_tables}

    before = counts()
    run(sessions, registry, neighbour_files, max_paths=3)
    assert counts() == before
    assert before["case"] == before["human_task"] == before["process_version"] == 0


def test_scripted_answers_choose_the_path_and_bad_ones_name_the_field(sessions, registry, county, neighbour_files):
    report = run(sessions, registry, neighbour_files, answers={"accept": {"accepted": False}}, max_paths=1)
    assert report.paths[0].status == "terminated"
    assert report.paths[0].answers[0].data == {"accepted": False}

    with pytest.raises(SimulationInputError) as wrong_type:
        run(sessions, registry, neighbour_files, answers={"accept": {"accepted": "也许"}})
    assert wrong_type.value.field == "answers.accept.accepted"
    with pytest.raises(SimulationInputError) as unknown:
        run(sessions, registry, neighbour_files, answers={"no_such_task": {}})
    assert unknown.value.field == "answers.no_such_task"
    with pytest.raises(SimulationInputError) as bad_intake:
        run(sessions, registry, neighbour_files, intake={"applicant_phone": "12345"})
    assert bad_intake.value.field == "intake.applicant_phone"


def test_the_generated_answers_are_valid_for_every_task_form(sessions, registry, county, neighbour_files):
    with sessions() as session:
        answers = default_answers(session, registry, "neighbour", COUNTY, neighbour_files, BEFORE_LABOUR_DAY)
    assert answers["accept"] == {"accepted": True}
    assert answers["mediate"]["mediation_outcome"] == "success"
    bundle = registry.category("neighbour").bundle
    assert set(answers) == set(bundle.tasks)  # the library's 督办 and 回访 tasks too
    for element_id, data in answers.items():
        bundle.form(bundle.tasks[element_id].form).validate(data)


def test_a_category_created_in_the_designer_simulates_before_its_first_version(sessions, registry, county):
    designer = Actor.of("zhou", {"designer"}, COUNTY, "周设计")
    with sessions() as session:
        draft = create_category(session, registry, "pet_noise", "宠物噪声纠纷", COUNTY, "neighbour", designer,
                                BEFORE_LABOUR_DAY)
        session.commit()
        report = simulate(session, registry, "pet_noise", COUNTY, dict(draft.files), start=BEFORE_LABOUR_DAY,
                          max_paths=2)
    assert report.ran, report.problems
    assert report.paths[0].status == "concluded"
    assert report.paths[0].steps[0].candidates == ("王受理",)
