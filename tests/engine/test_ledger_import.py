"""Importing a 台账: a county window registers a spreadsheet of disputes it kept by hand — every row
checked first, then all of them registered in one transaction, or none."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from engine.actors import Actor
from engine.errors import ProcessError
from engine.ledger_import import check_ledger, import_file, import_ledger
from engine.ledger_jobs import job_status, open_job, run_job
from engine.ledger_progress import ProgressBoard
from engine.ledger_sheet import read_ledger
from engine.ledger_template import EXAMPLE, write_template
from engine.models import Case, CaseEvent, LedgerImport
from engine.runtime import CaseRuntime
from tests.engine.org import COUNTY, OTHER_TOWNSHIP, TOWNSHIP, VILLAGE, build_tree

COUNTY_CLERK = Actor.of("county_clerk", {"clerk"}, COUNTY, "九原区受理员")
TOWNSHIP_CLERK = Actor.of("township_clerk", {"clerk"}, TOWNSHIP, "哈林格尔镇受理员")


def neighbour(place=VILLAGE, **cells) -> dict:
    """A 邻里纠纷 row as a clerk types it, with `cells` changed or added (by header)."""
    return {"纠纷类别": "邻里纠纷", "登记地": place, "事件名称": "楼上漏水纠纷", "简述": "楼上卫生间漏水，楼下天花板受损。",
            "申请人姓名": "刘桂兰", "申请人联系电话": "13800138000", **cells}


def labour(place=TOWNSHIP, **cells) -> dict:
    return {"纠纷类别": "劳动争议", "登记地": place, "事件名称": "某建筑公司拖欠工资", "简述": "项目完工后未发放两个月工资。",
            "申请人姓名": "王强", "申请人联系电话": "13904720011", "用人单位": "九原某建筑工程有限公司", **cells}


def table(rows: list[dict]) -> list[list]:
    """A header row (every key in order of first use) and the rows under it."""
    header = list(dict.fromkeys(key for row in rows for key in row))
    return [header] + [[row.get(key) for key in header] for row in rows]


def xlsx(rows: list[dict], sheet_title="台账") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    for line in table(rows):
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[dict], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(table(rows))
    return out.getvalue().encode(encoding)


def case_count(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Case))


def stored(sessions, code: str) -> Case:
    with sessions() as session:
        return session.scalars(select(Case).where(Case.code == code)).one()


def where(report) -> list[tuple]:
    return [(e.row, e.column, e.message) for e in report.errors]


@pytest.fixture
def tree(sessions):
    build_tree(sessions)
    return sessions


def run(sessions, runtime, data: bytes, filename="台账.xlsx", actor=COUNTY_CLERK, **kw):
    with sessions() as session:
        return import_file(session, runtime, data, filename, actor, **kw)


# -- a good ledger --------------------------------------------------------------------------------

def test_a_ledger_of_several_categories_registers_every_case_as_the_importer(tree, runtime):
    rows = [
        neighbour(VILLAGE, 发生日期=datetime(2026, 2, 20)),
        labour(TOWNSHIP, 来源渠道="12345热线", 涉及劳动者人数=12, **{"拖欠工资金额(元)": "86,000"}),
        {"纠纷类别": "medical", "登记地": COUNTY, "事件名称": "术后感染赔偿纠纷", "简述": "家属认为医院存在过错。",
         "来源渠道": "police_110", "申请人姓名": "张伟", "申请人联系电话": "13604721234", "涉事医疗机构": "九原区某医院"},
        neighbour(VILLAGE, 事件名称="院墙越界纠纷", 涉及人数="3"),
    ]

    report = run(tree, runtime, xlsx(rows))

    assert report.errors == [] and report.committed
    assert [(c.row, c.code) for c in report.cases] == [
        (2, f"{VILLAGE}-2026-000001"), (3, f"{TOWNSHIP}-2026-000001"), (4, f"{COUNTY}-2026-000001"),
        (5, f"{VILLAGE}-2026-000002")]
    leak = stored(tree, f"{VILLAGE}-2026-000001")
    assert (leak.category_code, leak.jurisdiction_code, leak.created_by) == ("neighbour", VILLAGE, "county_clerk")
    assert leak.intake["occurred_on"] == "2026-02-20"
    assert leak.intake["channel"] == "walk_in"  # 来源渠道 left empty: 群众来访
    wages = stored(tree, f"{TOWNSHIP}-2026-000001")
    assert wages.intake["channel"] == "hotline_12345"
    assert (wages.intake["employer_name"], wages.intake["workers_count"], wages.intake["wage_amount"]) == \
        ("九原某建筑工程有限公司", 12, 86000)
    medical = stored(tree, f"{COUNTY}-2026-000001")
    assert (medical.category_code, medical.intake["channel"], medical.intake["institution_name"]) == \
        ("medical", "police_110", "九原区某医院")
    assert stored(tree, f"{VILLAGE}-2026-000002").intake["people_count"] == 3
    with tree() as session:
        starts = session.scalars(select(CaseEvent).where(CaseEvent.kind == "case_started")).all()
        assert {event.actor for event in starts} == {"county_clerk"} and len(starts) == 4


def test_the_templates_example_row_imports(tree, runtime, registry, tmp_path):
    write_template(tmp_path / "台账模板.xlsx", registry, COUNTY)

    with tree() as session:
        report = import_file(session, runtime, tmp_path / "台账模板.xlsx", None, COUNTY_CLERK)

    assert report.committed and [c.code for c in report.cases] == [f"{COUNTY}-2026-000001"]
    case = stored(tree, f"{COUNTY}-2026-000001")
    assert case.category_code == "neighbour"
    assert case.intake == {**EXAMPLE, "occurred_on": "2026-02-20", "channel": "walk_in"}


# -- nothing is imported while any row is wrong ---------------------------------------------------------

def test_two_bad_rows_among_good_ones_import_nothing_and_are_reported_where_they_are(tree, runtime):
    rows = [neighbour(), neighbour(申请人联系电话="1380013800"), labour(), neighbour(), neighbour(纠纷类别="邻居纠纷")]

    report = run(tree, runtime, xlsx(rows))

    assert not report.committed and report.cases == []
    assert [(row, column) for row, column, _ in where(report)] == [(3, "申请人联系电话"), (6, "纠纷类别")]
    assert report.errors[0].message == "格式不正确"
    assert report.errors[1].message.startswith("没有“邻居纠纷”这个纠纷类别，可选：")
    assert case_count(tree) == 0


def test_every_problem_of_a_row_is_listed_in_the_columns_order(tree, runtime):
    rows = [labour(place=OTHER_TOWNSHIP, 用人单位=None, 涉及劳动者人数="十二", 发生日期="2026-02-30", 来源渠道="微信")]

    report = run(tree, runtime, xlsx(rows), actor=TOWNSHIP_CLERK)

    assert where(report) == [
        (2, "登记地", f"您无权在辖区 {OTHER_TOWNSHIP} 登记案件（不在您的管辖范围内）"),
        (2, "用人单位", "必填"),
        (2, "涉及劳动者人数", "应为整数"),
        (2, "发生日期", "应为日期，如 2026-03-01"),
        (2, "来源渠道", "不是可选的值，应为：群众来访、12345热线、110非警务警情、法院诉前、信访、网格员上报、上级交办、下级上报、部门推送、网上申请"),
    ]


def test_a_misspelt_header_is_reported_once_and_another_categorys_column_on_the_rows_that_fill_it(tree, runtime):
    rows = [neighbour(申请人电话="13800138000"), neighbour(申请人电话="13800138001", 用人单位="某公司"), labour()]

    report = run(tree, runtime, xlsx(rows))

    assert where(report) == [
        (1, "申请人电话", "无法识别的列名：请使用模板中的列名（或登记表的字段代码）"),
        (3, "用人单位", "“邻里纠纷”的登记表没有这一项，请留空"),
    ]
    assert case_count(tree) == 0


def test_a_ledger_without_a_category_column_is_refused(tree, runtime):
    report = run(tree, runtime, xlsx([{"事件名称": "楼上漏水纠纷", "申请人姓名": "刘桂兰"}]))

    assert where(report) == [(1, "纠纷类别", "缺少必需的列（填类别名称，如“邻里纠纷”）")]


# -- a failure inside the import transaction ------------------------------------------------------------

def test_a_row_refused_inside_the_transaction_rolls_back_the_cases_registered_before_it(tree, runtime):
    rows = [neighbour(VILLAGE), neighbour(VILLAGE), neighbour(OTHER_TOWNSHIP), neighbour(VILLAGE)]
    with tree() as session:
        check = check_ledger(session, runtime, read_ledger(xlsx(rows), "台账.xlsx"), COUNTY_CLERK)
        assert check.ok
        # Between the check and the import the importer lost the county: the township clerk goes on.
        report = import_ledger(session, runtime, check, TOWNSHIP_CLERK)

    assert not report.committed and report.failed_row == 4
    assert where(report) == [(4, "登记地", f"您无权在辖区 {OTHER_TOWNSHIP} 登记案件；本次未导入任何案件（已全部撤销）")]
    assert case_count(tree) == 0
    with tree() as session:
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == 0


class FailingRuntime(CaseRuntime):
    """A runtime whose process definition breaks on the `fail_at`-th case."""

    def __init__(self, runtime: CaseRuntime, fail_at: int):
        super().__init__(runtime.registry, runtime.clock)
        self.fail_at, self.started = fail_at, 0

    def start_case(self, session, *args, **kwargs):
        self.started += 1
        if self.started == self.fail_at:
            raise ProcessError("accept", "脚本出错")
        return super().start_case(session, *args, **kwargs)


def test_a_job_that_breaks_on_a_row_ends_failed_with_nothing_imported(tree, runtime):
    with tree() as session:
        job_id = open_job(session, "台账.xlsx", COUNTY_CLERK, runtime.clock.now()).id

    report = run_job(tree, FailingRuntime(runtime, fail_at=3), job_id, xlsx([neighbour()] * 4), "台账.xlsx",
                     COUNTY_CLERK)

    assert report.failed_row == 4 and case_count(tree) == 0
    with tree() as session:
        job = session.get(LedgerImport, job_id)
        assert (job.state, job.done, job.total) == ("failed", 0, 4)
        assert job.report["errors"][0]["row"] == 4 and "脚本出错" in job.report["errors"][0]["message"]
        assert job.finished_at is not None


# -- progress ------------------------------------------------------------------------------------------

def test_progress_can_be_read_while_the_import_transaction_is_open(tree, runtime):
    """The board always has it; on PostgreSQL the LedgerImport row has it too, written beside the
    open transaction (on SQLite that transaction holds the only write lock)."""
    board = ProgressBoard()
    with tree() as session:
        job_id = open_job(session, "台账.xlsx", COUNTY_CLERK, runtime.clock.now()).id
        postgres = session.get_bind().dialect.name == "postgresql"
    seen = []

    def reader(done: int, total: int) -> None:
        with tree() as other:
            row = other.get(LedgerImport, job_id)
            seen.append((board.get(job_id).done, row.state, row.done, row.total,
                         other.scalar(select(func.count()).select_from(Case))))

    report = run_job(tree, runtime, job_id, xlsx([neighbour()] * 3), "台账.xlsx", COUNTY_CLERK, board=board,
                     listener=reader, every=1)

    assert report.committed
    expected_done = [1, 2, 3] if postgres else [0, 0, 0]
    assert seen == [(n, "importing", persisted, 3, 0) for n, persisted in zip([1, 2, 3], expected_done)]
    assert board.get(job_id) is None  # finished: the row says how it ended
    with tree() as session:
        job = session.get(LedgerImport, job_id)
        assert job_status(job, board) | {"codes": None} == {
            "id": job_id, "state": "done", "state_name": "导入完成", "done": 3, "total": 3, "finished": True,
            "codes": None, "error_count": 0}
        assert job_status(job)["codes"] == [f"{VILLAGE}-2026-00000{n}" for n in (1, 2, 3)]


def test_a_job_with_a_bad_row_ends_invalid_and_keeps_the_report(tree, runtime):
    with tree() as session:
        job_id = open_job(session, "台账.xlsx", COUNTY_CLERK, runtime.clock.now()).id

    run_job(tree, runtime, job_id, xlsx([neighbour(), neighbour(申请人姓名=None)]), "台账.xlsx", COUNTY_CLERK)

    with tree() as session:
        job = session.get(LedgerImport, job_id)
        assert (job.state, job.total, job.done) == ("invalid", 2, 0)
        assert job.report["errors"] == [{"sheet": "台账", "row": 3, "column": "申请人姓名", "message": "必填"}]


# -- how cells arrive -----------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_a_csv_saved_by_excel_in_either_encoding_imports(tree, runtime, encoding):
    rows = [neighbour(发生日期="2026/2/20", 来源渠道="网格员上报"), labour(发生日期="2026年2月20日")]

    report = run(tree, runtime, csv_bytes(rows, encoding), "九原区台账.csv")

    assert report.committed and len(report.cases) == 2
    case = stored(tree, f"{VILLAGE}-2026-000001")
    assert (case.intake["occurred_on"], case.intake["channel"], case.intake["applicant_name"]) == \
        ("2026-02-20", "grid", "刘桂兰")
    assert stored(tree, f"{TOWNSHIP}-2026-000001").intake["employer_name"] == "九原某建筑工程有限公司"


def test_phone_numbers_and_dates_excel_stored_as_numbers_import_as_typed(tree, runtime):
    rows = [neighbour(申请人联系电话=13800138000, 被申请人联系电话=13912345678.0, 发生日期=46073,
                      涉及金额=3500.0)]

    report = run(tree, runtime, xlsx(rows))

    assert report.committed
    intake = stored(tree, f"{VILLAGE}-2026-000001").intake
    assert (intake["applicant_phone"], intake["respondent_phone"], intake["occurred_on"], intake["amount"]) == \
        ("13800138000", "13912345678", "2026-02-20", 3500)


def test_an_id_number_excel_turned_into_a_float_is_reported_not_imported_with_lost_digits(tree, runtime):
    report = run(tree, runtime, xlsx([neighbour(申请人证件号码=150207196505121234.0)]))

    assert [(row, column) for row, column, _ in where(report)] == [(2, "申请人证件号码")]
    assert "科学计数法" in report.errors[0].message
    assert case_count(tree) == 0


def test_a_dry_run_checks_everything_and_registers_nothing(tree, runtime):
    report = run(tree, runtime, xlsx([neighbour(), labour()]), dry_run=True)

    assert report.ok and report.dry_run and not report.committed and report.total == 2
    assert case_count(tree) == 0


def test_files_that_are_not_ledgers_are_refused_with_a_reason(tree, runtime):
    assert "不支持的文件类型" in run(tree, runtime, b"x", "台账.xls").errors[0].message
    assert "不是有效的 .xlsx 工作簿" in run(tree, runtime, b"not a zip", "台账.xlsx").errors[0].message
    assert where(run(tree, runtime, xlsx([]), "台账.xlsx")) == [(1, None, "第一行应为列名（纠纷类别、登记地、事件名称……）")]
