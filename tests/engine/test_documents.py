"""Documents (三单两函): numbered per jurisdiction, type and year, rendered print-ready, issued once,
and never printing a full ID or phone number."""
from __future__ import annotations

import json
import logging
import shutil
import threading
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engine.calendar import SHANGHAI
from engine.documents import (
    DOCUMENT_TYPES, DocumentRenderer, case_documents, check_document_types, generate_documents, issue_document,
)
from engine.forms import FormLibrary
from engine.models import Case, CaseDocument, HumanTask, ProcessSpec
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.timers import sweep_due_timers
from SpiffWorkflow.util.task import TaskState
from tests.conftest import ROOT
from tests.engine.scenario import INTAKE

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
FULL_ID = INTAKE["applicant_id_number"]  # 150207198001010012
FULL_PHONE = INTAKE["applicant_phone"]  # 13904720001
CATEGORY = "文书测试纠纷"


@pytest.fixture(scope="module")
def renderer() -> DocumentRenderer:
    return DocumentRenderer(center_names={"150207": "九原区综治中心"})


def add_case(session, jurisdiction: str, code: str, **data) -> Case:
    """A bare case row: numbering and rendering need no process behind it."""
    if session.get(ProcessSpec, "bare") is None:
        session.add(ProcessSpec(hash="bare", category_code="bare", process_id="bare", spec_json="{}",
                                created_at=MONDAY))
        session.flush()  # no relationship tells the unit of work to insert the spec first
    case = Case(code=code, category_code="bare", spec_hash="bare", jurisdiction_code=jurisdiction,
                handling_jurisdiction_code=jurisdiction, status="open", title="楼上漏水致楼下天花板受损",
                data={**INTAKE, **data}, intake=dict(INTAKE), created_by="clerk",
                created_at=MONDAY, updated_at=MONDAY, workflow_state="{}")
    session.add(case)
    session.flush()
    return case


def issue(session, case, doc_type, now=MONDAY, renderer=None, **details) -> CaseDocument:
    return issue_document(session, case, doc_type, details, now, renderer or DocumentRenderer(), CATEGORY)


# -- numbering -----------------------------------------------------------------------------------

def test_numbers_run_per_jurisdiction_type_and_year(sessions):
    with sessions() as session:
        jiuyuan = add_case(session, "150207", "150207-2026-000001")
        kundulun = add_case(session, "150203", "150203-2026-000001")
        numbers = [
            issue(session, jiuyuan, "acceptance_notice").number,
            issue(session, jiuyuan, "acceptance_notice").number,
            issue(session, jiuyuan, "transfer_order").number,
            issue(session, kundulun, "acceptance_notice").number,
            issue(session, jiuyuan, "mediation_agreement").number,
            issue(session, jiuyuan, "mediation_termination").number,
            # 1 January 2027, 00:30 in Beijing is still 2026 in UTC: the Beijing year counts.
            issue(session, jiuyuan, "acceptance_notice", now=datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)).number,
        ]
        session.commit()
    assert numbers == [
        "150207-2026-受00001", "150207-2026-受00002", "150207-2026-交00001", "150203-2026-受00001",
        "150207-2026-调协00001", "150207-2026-调终00001", "150207-2027-受00001",
    ]


def test_two_clerks_issuing_at_the_same_moment_get_different_numbers(sessions):
    with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("concurrent writers are a PostgreSQL matter; SQLite runs one writer at a time")
        case_id = add_case(session, "150207", "150207-2026-000001").id
        session.commit()
    start = threading.Barrier(2)
    numbers, errors = [], []

    def clerk():
        try:
            with sessions() as session:
                case = session.get(Case, case_id)
                start.wait(timeout=10)
                numbers.append(issue(session, case, "acceptance_notice").number)
                session.commit()
        except Exception as exc:  # reported below; a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(numbers) == ["150207-2026-受00001", "150207-2026-受00002"]


# -- rendering -----------------------------------------------------------------------------------

def test_every_document_type_renders_a_print_ready_a4_page_with_number_title_and_seal(sessions, renderer):
    with sessions() as session:
        case = add_case(session, "150207", "150207-2026-000001")
        for doc_type, kind in DOCUMENT_TYPES.items():
            document = issue(session, case, doc_type, renderer=renderer)
            html = document.html
            assert document.title == kind.title and kind.title in html
            assert document.number in html and document.number.startswith(f"150207-2026-{kind.prefix}")
            assert "size: A4" in html and '"WenQuanYi Zen Hei", "Noto Serif CJK SC", "Noto Sans CJK SC", serif' in html
            assert "（盖章）" in html and "2026年3月2日" in html
            assert "150207-2026-000001" in html, f"{doc_type} does not name the case"


def test_case_data_is_escaped_not_interpreted(sessions, renderer):
    with sessions() as session:
        case = add_case(session, "150207", "150207-2026-000001", summary="<script>alert(1)</script>")
        html = issue(session, case, "acceptance_notice", renderer=renderer).html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_document_leaves_out_what_the_case_does_not_record(sessions, renderer):
    with sessions() as session:
        case = add_case(session, "150207", "150207-2026-000001")
        html = issue(session, case, "result_notice", renderer=renderer).html
    assert "协议内容" not in html and "司法确认" not in html and "None" not in html


def test_a_result_notice_says_mediation_failed_only_when_there_was_a_mediation(sessions, renderer):
    with sessions() as session:
        mediated = add_case(session, "150207", "150207-2026-000001", mediation_outcome="failure",
                            mediation_record="分歧较大", legal_route="litigation")
        routed_out = add_case(session, "150207", "150207-2026-000002", legal_route="ownership_confirmation",
                              referral_authority="九原区哈林格尔镇人民政府")
        after_mediation = issue(session, mediated, "result_notice", renderer=renderer).html
        without_mediation = issue(session, routed_out, "result_notice", renderer=renderer).html
        route_map = issue(session, routed_out, "legal_route", renderer=renderer).html
    assert "经调解未能解决" in after_mediation
    assert "经调解未能解决" not in without_mediation and "调解以外的途径" in without_mediation
    assert "向人民政府申请确权" in without_mediation
    assert "哈林格尔镇人民政府申请处理" in route_map


def test_an_extension_notice_states_the_extension_its_reason_and_the_new_limit(sessions, renderer):
    with sessions() as session:
        case = add_case(session, "150207", "150207-2026-000001")
        document = issue(session, case, "extension_notice", renderer=renderer, task_name="调处", extension="30 日",
                         reason="双方当事人同意延长调解期限", approved_by="赵主任",
                         new_due=datetime(2026, 4, 30, 17, 30, tzinfo=SHANGHAI))
    assert document.number == "150207-2026-延00001"
    for text in ("“调处”环节", "双方当事人同意延长调解期限", "延长30 日", "2026年4月30日 17:30", "赵主任"):
        assert text in document.html


# -- the lint's check ----------------------------------------------------------------------------

def test_the_lint_accepts_known_document_types_and_names_unknown_ones():
    assert check_document_types("acceptance_notice") is None
    assert check_document_types("acceptance_notice, transfer_order") is None
    assert "'acceptance_notic'" in check_document_types("acceptance_notic,transfer_order")
    assert "empty" in check_document_types(" , ")
    assert "more than once" in check_document_types("supervision_letter,supervision_letter")


# -- generating from a running case --------------------------------------------------------------

@pytest.fixture
def documents_runtime(tmp_path, clock) -> CaseRuntime:
    """A runtime over the documents test category (tests/fixtures/documents_category) and the real library."""
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "tests" / "fixtures" / "documents_category", processes / "documents")
    shutil.copytree(ROOT / "processes" / "library", processes / "library")
    registry = ProcessRegistry(processes, FormLibrary(ROOT / "forms"))
    assert "documents" in registry.categories, "\n".join(map(str, registry.report.errors))
    return CaseRuntime(registry, clock)


class DocumentsCase:
    """One case of the documents category; the runtime issues documents as the case runs."""

    def __init__(self, sessions, runtime: CaseRuntime, actor, renderer, intake: dict):
        self.sessions, self.runtime, self.actor, self.renderer = sessions, runtime, actor, renderer
        self.seen: set[int] = set()
        with sessions() as session:
            self.case_id = runtime.start_case(session, "documents", intake, "150207", actor).id

    def do(self, element_id: str, data: dict) -> None:
        with self.sessions() as session:
            task_id = session.scalars(select(HumanTask.id).where(
                HumanTask.case_id == self.case_id, HumanTask.element_id == element_id,
                HumanTask.state == "ready")).one()
            self.runtime.complete_task(session, task_id, data, self.actor)

    def generate(self) -> list[CaseDocument]:
        """The documents issued since the last call; generating again on the stored workflow must
        add nothing, since the runtime already issued everything due."""
        with self.sessions() as session:
            case = session.get(Case, self.case_id)
            bundle = self.runtime.registry.category("documents").bundle
            workflow = self.runtime.codec.load_state(case.workflow_state, bundle)
            extra = generate_documents(session, case, bundle, workflow, self.runtime.clock.now(),
                                       self.renderer, CATEGORY)
            session.commit()
            assert extra == []
            documents = [d for d in case_documents(session, case) if d.id not in self.seen]
            self.seen.update(d.id for d in documents)
            return documents

    def task(self, element_id: str) -> HumanTask:
        with self.sessions() as session:
            return session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                           HumanTask.element_id == element_id)).one()


@pytest.fixture
def documents_case(sessions, documents_runtime, staff, renderer):
    intake = dict(INTAKE, summary=f"楼上卫生间漏水。申请人身份证号{FULL_ID}，电话{FULL_PHONE}。")
    return DocumentsCase(sessions, documents_runtime, staff, renderer, intake)


def test_accepting_a_case_issues_its_acceptance_notice_and_transfer_order(documents_case):
    documents_case.do("accept", {"accepted": True})

    documents = documents_case.generate()

    accept = documents_case.task("accept")
    assert [(d.doc_type, d.number) for d in documents] == [
        ("acceptance_notice", "150207-2026-受00001"), ("transfer_order", "150207-2026-交00001")]
    assert {(d.task_id, d.element_id) for d in documents} == {(accept.id, "accept")}
    handle_due = documents_case.task("handle").due_at.astimezone(SHANGHAI)
    due_text = f"{handle_due.year}年{handle_due.month}月{handle_due.day}日 {handle_due:%H:%M}"
    acceptance, transfer = documents[0].html, documents[1].html
    assert "150207-2026-000001" in acceptance and "“调处”" in acceptance and due_text in acceptance
    assert "办结期限" in transfer and due_text in transfer and "窗口受理员" in transfer


def test_generating_again_issues_nothing(documents_case, sessions):
    documents_case.do("accept", {"accepted": True})
    documents_case.generate()

    assert documents_case.generate() == []
    with sessions() as session:
        assert len(case_documents(session, session.get(Case, documents_case.case_id))) == 2


def test_documents_keep_names_but_never_print_a_full_id_or_phone_number(documents_case):
    documents_case.do("accept", {"accepted": True})

    for document in documents_case.generate():
        stored = document.html + json.dumps(document.data, ensure_ascii=False)
        assert FULL_ID not in stored and FULL_PHONE not in stored
        assert "150207********0012" in document.html and "139****0001" in document.html
        assert INTAKE["applicant_name"] in document.html


def test_a_warning_timer_that_fires_issues_a_work_reminder_about_its_task(documents_case, documents_runtime, sessions):
    documents_case.do("accept", {"accepted": True})
    documents_case.generate()

    # 调处 has 2 工作日 from Monday 09:00; at 80% of that, Wednesday late morning, it is 临期.
    documents_runtime.clock.set(datetime(2026, 3, 4, 12, 0, tzinfo=SHANGHAI))
    sweep_due_timers(sessions, documents_runtime)
    documents = documents_case.generate()

    assert [(d.doc_type, d.element_id, d.number) for d in documents] == [
        ("work_reminder", "handle_warning", "150207-2026-提00001")]
    assert "“调处”环节" in documents[0].html and "临近办理期限" in documents[0].html


def test_an_unknown_document_type_is_skipped_with_a_warning(sessions, renderer, caplog):
    task = SimpleNamespace(
        id="0d9c5e2a-5f0e-4a43-9a52-3c1f1b0b7a11", state=TaskState.COMPLETED, data=dict(INTAKE), last_state_change=0.0,
        task_spec=SimpleNamespace(bpmn_id="notify", bpmn_name="结果告知",
                                  extensions={"properties": {"documents": "result_notice,result_notise"}}))
    workflow = SimpleNamespace(tasks={task.id: task}, subprocesses={})
    with sessions() as session, caplog.at_level(logging.WARNING, logger="engine.documents"):
        case = add_case(session, "150207", "150207-2026-000001")
        documents = generate_documents(session, case, None, workflow, MONDAY, renderer, CATEGORY)
    assert [d.doc_type for d in documents] == ["result_notice"]
    assert "result_notise" in caplog.text
