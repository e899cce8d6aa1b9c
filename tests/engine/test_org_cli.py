"""`fengqiao org | jurisdiction | department | user`: setting up a county from the command line."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import Workbook
from werkzeug.security import check_password_hash

from engine import people
from engine.db import make_engine, make_session_factory
from fengqiao.cli import main


@pytest.fixture
def database(tmp_path, monkeypatch):
    """The app's database (FENGQIAO_DATABASE_URL) as a fresh SQLite file; returns a session maker."""
    url = f"sqlite:///{tmp_path / 'org.sqlite'}"
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_county_is_imported_from_the_template_and_listed_as_a_tree(database, capsys, tmp_path):
    workbook = tmp_path / "county.xlsx"
    assert run(capsys, "org", "template", str(workbook), "--example")[0] == 0

    code, out, _ = run(capsys, "org", "import", str(workbook), "--dry-run")
    assert code == 0 and "校验通过（试运行，未写入）" in out
    code, out, _ = run(capsys, "jurisdiction", "list")
    assert out.strip() == "（尚无辖区）"

    code, out, _ = run(capsys, "org", "import", str(workbook))
    assert code == 0 and "用户：新增 4" in out
    code, out, _ = run(capsys, "jurisdiction", "list", "150207")
    assert out.splitlines() == [
        "150207 九原区［县（区、旗）］  九原区社会治安综合治理中心",
        "  150207001 沙河街道［乡镇（街道）］  沙河街道综治中心",
        "    150207001001 兴胜社区［村（社区）］  兴胜社区综治站",
        "      150207001001001 兴胜社区第一网格［网格］",
    ]


def test_a_bad_workbook_prints_every_problem_and_exits_1(database, capsys, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "辖区"
    for row in (["代码", "名称", "层级", "上级代码"], ["150207", "九原区", "区", ""], ["150207001", "沙河街道", "镇级", "150207"],
                ["150203001", "昆区街道", "街道", "150207"]):
        sheet.append(row)
    book.save(tmp_path / "bad.xlsx")

    code, out, err = run(capsys, "org", "import", str(tmp_path / "bad.xlsx"))

    assert code == 1
    assert out.splitlines()[0].startswith("辖区 第 3 行【层级】：层级无效")
    assert out.splitlines()[1].startswith("辖区 第 4 行【代码】：代码 150203001 不在上级 150207")
    assert "未导入任何内容" in err
    assert run(capsys, "jurisdiction", "list")[1].strip() == "（尚无辖区）"


def test_building_a_township_by_hand(database, capsys, monkeypatch):
    assert run(capsys, "jurisdiction", "add", "150207", "九原区", "县", "--center", "九原区综治中心")[0] == 0
    code, out, _ = run(capsys, "jurisdiction", "add", "150207001", "沙河街道", "街道", "--parent", "150207",
                       "--center", "沙河街道综治中心")
    assert code == 0 and out.strip() == "已添加：150207001 沙河街道（乡镇（街道））"
    code, _, err = run(capsys, "jurisdiction", "add", "150203001", "昆区街道", "街道", "--parent", "150207")
    assert code == 1 and "不在上级 150207" in err

    code, out, _ = run(capsys, "department", "add", "150207", "court", "九原区人民法院", "轮驻",
                       "--start", "2026-01-01", "--end", "2026-06-30")
    assert code == 0
    code, _, err = run(capsys, "department", "add", "150207", "police", "公安分局", "轮驻", "--start", "2026-01-01")
    assert code == 1 and "轮驻结束日期" in err
    assert run(capsys, "department", "list", "150207")[1].strip() == "150207 court 九原区人民法院 轮驻 2026-01-01～2026-06-30"

    code, out, _ = run(capsys, "user", "add", "wang", "--name", "王联络", "--jurisdiction", "150207",
                       "--phone", "13812345678", "--password-stdin", stdin="first-password\n", monkeypatch=monkeypatch)
    assert code == 0
    assert run(capsys, "user", "grant", "wang", "部门联络员", "150207", "--department", "court")[0] == 0
    assert run(capsys, "user", "grant", "wang", "mediator", "150207001")[0] == 0
    code, _, err = run(capsys, "user", "grant", "wang", "boss", "150207")
    assert code == 1 and "角色无效" in err

    code, out, _ = run(capsys, "user", "list", "--jurisdiction", "150207")
    assert out.strip() == "wang  王联络  150207  138****5678  部门联络员@150207/court、调解员@150207001"

    assert run(capsys, "user", "revoke", "wang", "调解员", "150207001")[0] == 0
    with database() as session:
        assert [(g.role, g.jurisdiction_code) for g in people.find_user(session, "wang").grants] == [("liaison", "150207")]


def test_account_commands(database, capsys, monkeypatch):
    run(capsys, "jurisdiction", "add", "150207", "九原区", "county")
    run(capsys, "user", "add", "wang", "--name", "王调解", "--jurisdiction", "150207", "--password-stdin",
        stdin="first-password\n", monkeypatch=monkeypatch)
    with database() as session:
        user = people.find_user(session, "wang")
        user.failed_logins, user.locked_until = 0, datetime.now(timezone.utc) + timedelta(minutes=15)
        session.commit()
    assert "（已锁定）" in run(capsys, "user", "list")[1]

    assert run(capsys, "user", "unlock", "wang")[1].strip() == "已解除 wang 的锁定"
    code, _, err = run(capsys, "user", "passwd", "wang", "--password-stdin", stdin="short\n", monkeypatch=monkeypatch)
    assert code == 1 and "至少需要 8 个字符" in err and "short" not in err
    assert run(capsys, "user", "passwd", "wang", "--password-stdin", stdin="second-password\n", monkeypatch=monkeypatch)[0] == 0
    assert run(capsys, "user", "disable", "wang")[0] == 0
    with database() as session:
        user = people.find_user(session, "wang")
        assert user.locked_until is None and not user.active
        assert check_password_hash(user.password_hash, "second-password")
    assert run(capsys, "user", "enable", "wang")[0] == 0
    assert run(capsys, "user", "unlock", "nobody")[:3:2] == (1, "错误：用户 nobody 不存在\n")
    code, _, err = run(capsys, "user", "add", "wang", "--name", "又一个", "--jurisdiction", "150207", "--password-stdin",
                       stdin="another-password\n", monkeypatch=monkeypatch)
    assert code == 1 and "已存在" in err
