"""台账导入 on the web and the command line: a clerk uploads a ledger, reads the check, confirms, and
follows the import to the list of registered cases; a bad ledger registers nothing."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from engine import people
from engine.models import Case, CaseEvent, LedgerImport
from fengqiao.cli import main
from web import ledger_import_view, ledger_runs
from web.extensions import db

HEADER = ["纠纷类别", "登记地", "事件名称", "简述", "来源渠道", "申请人姓名", "申请人联系电话", "用人单位"]
GOOD_ROWS = [
    ["邻里纠纷", "150207", "楼上漏水纠纷", "楼上卫生间漏水，楼下天花板受损。", "群众来访", "刘桂兰", "13800138000", None],
    ["劳动争议", "150207001", "某建筑公司拖欠工资", "项目完工后未发放两个月工资。", "12345热线", "王强", 13904720011,
     "九原某建筑工程有限公司"],
    ["邻里纠纷", "150207001", "院墙越界纠纷", "邻居新建院墙占用通道。", None, "周玉梅", "13700001111", None],
]


def ledger(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    for row in [header, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, filename="九原区台账.xlsx"):
    return client.post("/cases/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)


@pytest.fixture
def imports_dir(app, tmp_path):
    folder = tmp_path / "imports"
    app.config.update(LEDGER_IMPORT_DIR=str(folder), LEDGER_IMPORT_SYNC=True)
    return folder


def cases_in(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Case))


def confirmed(client, data: bytes) -> int:
    """Upload, check and confirm `data`; the LedgerImport id."""
    page = upload(client, data)
    assert page.status_code == 200, page.get_data(as_text=True)
    response = client.post("/cases/import/confirm", data={"token": token_of(page.get_data(as_text=True))})
    assert response.status_code == 302
    return int(re.search(r"/cases/import/(\d+)$", response.headers["Location"]).group(1))


# -- the clerk's way through ----------------------------------------------------------------------

def test_a_clerk_uploads_checks_confirms_and_follows_the_import_to_its_cases(app, login, imports_dir):
    clerk = login("clerk")
    assert "从台账批量导入" in clerk.get("/cases").get_data(as_text=True)

    page = upload(clerk, ledger(GOOD_ROWS))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "确认导入 3 件" in html and "共 3 件：邻里纠纷 2 件，劳动争议 1 件" in html
    assert cases_in(app) == 0  # the check is a dry run
    kept = list(imports_dir.iterdir())
    assert len(kept) == 1  # the checked file waits server-side for the confirmation

    response = clerk.post("/cases/import/confirm", data={"token": token_of(html)})
    import_id = int(re.search(r"/cases/import/(\d+)$", response.headers["Location"]).group(1))

    progress = clerk.get(f"/cases/import/{import_id}/progress").get_json()
    assert progress | {"codes": None} == {"id": import_id, "state": "done", "state_name": "导入完成", "done": 3,
                                          "total": 3, "finished": True, "codes": None, "error_count": 0}
    assert progress["codes"] == ["150207-2026-000001", "150207001-2026-000001", "150207001-2026-000002"]
    assert not kept[0].exists()  # deleted once imported
    result = clerk.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        cases = db.session.scalars(select(Case).order_by(Case.id)).all()
        assert [(c.code, c.category_code, c.created_by) for c in cases] == [
            ("150207-2026-000001", "neighbour", "clerk"), ("150207001-2026-000001", "labour", "clerk"),
            ("150207001-2026-000002", "neighbour", "clerk")]
        assert cases[1].intake["applicant_phone"] == "13904720011" and cases[2].intake["channel"] == "walk_in"
        assert {e.actor for e in db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "case_started"))} == {"clerk"}
        for case in cases:
            assert f'href="/cases/{case.id}">{case.code}</a>' in result


def test_a_ledger_with_bad_rows_shows_each_problem_and_registers_nothing(app, login, imports_dir):
    rows = [GOOD_ROWS[0], [*GOOD_ROWS[1][:7], None], GOOD_ROWS[2], ["邻里纠纷", "150203", *GOOD_ROWS[2][2:]]]

    page = upload(login("clerk"), ledger(rows))

    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "发现 2 处问题，未登记任何案件" in html
    assert "/cases/import/confirm" not in html
    assert re.search(r"<td[^>]*>3</td><td[^>]*>用人单位</td><td>必填</td>", html)
    assert re.search(r"<td[^>]*>5</td><td[^>]*>登记地</td><td>您无权在辖区 150203 登记案件", html)
    assert cases_in(app) == 0
    assert not imports_dir.exists() or not any(imports_dir.iterdir())


def test_files_of_another_kind_or_too_large_are_refused_before_reading(app, login, imports_dir, monkeypatch):
    clerk = login("clerk")
    response = upload(clerk, b"old excel", "台账.xls")
    assert response.status_code == 422 and "只能导入 .xlsx 工作簿或 CSV 文件" in response.get_data(as_text=True)

    monkeypatch.setattr(ledger_import_view, "MAX_BYTES", 1024)
    response = upload(clerk, b"x" * 2048, "台账.csv")
    assert response.status_code == 422 and "文件超过" in response.get_data(as_text=True)


def test_a_confirmation_without_the_checked_file_is_refused(app, login, imports_dir):
    clerk = login("clerk")
    upload(clerk, ledger(GOOD_ROWS))

    response = clerk.post("/cases/import/confirm", data={"token": "0" * 32}, follow_redirects=True)

    assert "待导入的文件已过期，请重新上传" in response.get_data(as_text=True)
    assert cases_in(app) == 0


def test_forms_need_the_csrf_token(csrf_app, password, tmp_path):
    csrf_app.config.update(LEDGER_IMPORT_DIR=str(tmp_path / "imports"), LEDGER_IMPORT_SYNC=True)
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "clerk", "password": password, "csrf_token": token})

    assert upload(client, ledger(GOOD_ROWS)).status_code == 400
    page = client.get("/cases/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/cases/import", data={"file": (io.BytesIO(ledger(GOOD_ROWS)), "台账.xlsx"),
                                                  "csrf_token": token}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count('name="csrf_token"') == 3  # 退出, 上传, 确认导入
    assert client.post("/cases/import/confirm", data={"token": token_of(html)}).status_code == 400


# -- who may follow an import ------------------------------------------------------------------------

def test_only_the_importer_and_the_director_or_admin_over_their_unit_read_an_import(app, login, imports_dir):
    import_id = confirmed(login("clerk"), ledger(GOOD_ROWS))

    for username, status in (("clerk", 200), ("director", 200), ("admin", 200), ("mediator", 404), ("other", 404)):
        client = login(username)
        assert client.get(f"/cases/import/{import_id}/progress").status_code == status, username
        assert client.get(f"/cases/import/{import_id}").status_code == status, username


# -- in the background -----------------------------------------------------------------------------------

def test_a_confirmed_import_runs_in_a_background_thread_and_its_progress_reaches_the_total(app, login, imports_dir):
    app.config["LEDGER_IMPORT_SYNC"] = False
    clerk = login("clerk")

    import_id = confirmed(clerk, ledger(GOOD_ROWS * 4))
    thread = ledger_runs.running(app)[import_id]
    thread.join(timeout=120)

    assert not thread.is_alive()
    progress = clerk.get(f"/cases/import/{import_id}/progress").get_json()
    assert (progress["state"], progress["done"], progress["total"], progress["finished"]) == ("done", 12, 12, True)
    assert cases_in(app) == 12
    assert not any(imports_dir.iterdir())
    with app.app_context():
        job = db.session.get(LedgerImport, import_id)
        assert (job.state, job.done, job.created_by, job.jurisdiction_code) == ("done", 12, "clerk", "150207")


def test_the_running_page_polls_the_progress_endpoint(app, login, imports_dir):
    with app.app_context():
        job = LedgerImport(filename="台账.xlsx", jurisdiction_code="150207", state="importing", total=40, done=0,
                           report={}, created_by="clerk", created_at=app.config["CLOCK"].now())
        db.session.add(job)
        db.session.commit()
        import_id = job.id
    ledger_runs.board(app).set(import_id, "importing", 17, 40)
    clerk = login("clerk")

    html = clerk.get(f"/cases/import/{import_id}").get_data(as_text=True)
    progress = clerk.get(f"/cases/import/{import_id}/progress").get_json()

    assert f'data-progress-url="/cases/import/{import_id}/progress"' in html and 'value="17"' in html
    assert (progress["state"], progress["done"], progress["total"], progress["finished"]) == ("importing", 17, 40, False)


# -- the template ----------------------------------------------------------------------------------------

def test_the_template_download_has_the_columns_an_example_at_the_clerks_unit_and_notes(app, login):
    response = login("clerk").get("/cases/import/template.xlsx")

    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["台账", "说明"]
    header, example = list(book["台账"].iter_rows(max_row=2, values_only=True))
    assert header[:3] == ("纠纷类别", "登记地", "事件名称") and "用人单位" in header
    assert example[:2] == ("邻里纠纷", "150207")
    notes = [row[0] for row in book["说明"].iter_rows(values_only=True)]
    assert "劳动争议" in notes and "群众来访" in notes


# -- the command line --------------------------------------------------------------------------------------

@pytest.fixture
def database(cli_database):
    """The configured database (tests/conftest.py: 九原区) with a 九原区 clerk."""
    with cli_database() as session:
        user = people.save_user(session, "clerk", "王受理", "150207", password="fengqiao-2026")
        people.grant(session, user, "clerk", "150207")
        session.commit()
    return cli_database


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_checks_then_imports_a_ledger_as_the_named_user(database, capsys, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(ledger(GOOD_ROWS))

    code, out, _ = cli(capsys, "cases", "import", str(path), "--as", "clerk", "--dry-run")
    assert (code, out.strip()) == (0, "校验通过（试运行，未写入）：共 3 件")
    with database() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0

    code, out, _ = cli(capsys, "cases", "import", str(path), "--as", "clerk")
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "导入完成：共 3 件"
    assert re.fullmatch(r"第 3 行 → 150207001-\d{4}-000001  劳动争议", lines[1])
    with database() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 3
        assert set(session.scalars(select(Case.created_by))) == {"clerk"}
        assert session.scalars(select(LedgerImport.state)).all() == ["done"]


def test_the_cli_prints_every_problem_and_exits_1_with_nothing_imported(database, capsys, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(ledger([GOOD_ROWS[0], ["邻居纠纷", *GOOD_ROWS[0][1:]]]))

    code, out, err = cli(capsys, "cases", "import", str(path), "--as", "clerk")

    assert code == 1 and out.splitlines()[0].startswith("台账 第 3 行【纠纷类别】：没有“邻居纠纷”这个纠纷类别")
    assert "未导入任何案件" in err
    code, _, err = cli(capsys, "cases", "import", str(path), "--as", "nobody")
    assert code == 1 and "错误：用户 nobody 不存在" in err
    with database() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_cli_writes_the_template_and_shows_a_progress_bar_for_a_long_ledger(database, capsys, tmp_path):
    template = tmp_path / "模板.xlsx"
    assert cli(capsys, "cases", "template", str(template))[0:2] == (0, f"已生成模板：{template}\n")
    book = load_workbook(template)
    sheet = book["台账"]
    example = [cell.value for cell in sheet[2]]
    for _ in range(24):
        sheet.append(example)
    book.save(template)

    code, out, err = cli(capsys, "cases", "import", str(template), "--as", "clerk")

    assert code == 0 and out.splitlines()[-1] == "导入完成：共 25 件"
    assert "导入 [" in err and err.rstrip().endswith("25/25")
