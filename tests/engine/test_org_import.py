"""Importing an organisation workbook: a county's tree, departments, people and roles in one file,
checked row by row and written all together or not at all."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from engine import people
from engine.models import Department, Jurisdiction, RoleGrant, User
from engine.org_import import import_file
from engine.org_scope import AdminScope
from engine.org_workbook import EXAMPLE_PASSWORD, write_template

JURISDICTION_HEADER = ["代码", "名称", "层级", "上级代码", "综治中心"]
DEPARTMENT_HEADER = ["辖区代码", "部门代码", "部门名称", "入驻方式", "轮驻开始", "轮驻结束"]
USER_HEADER = ["用户名", "姓名", "所属辖区", "手机号", "B岗用户名", "初始密码"]
GRANT_HEADER = ["用户名", "角色", "辖区代码", "部门代码"]


def xlsx(tmp_path, sheets: dict[str, list[list]], name="org.xlsx"):
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def counts(session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Jurisdiction, Department, User, RoleGrant)}


def where(report) -> list[tuple]:
    return [(e.sheet, e.row, e.column) for e in report.errors]


# -- a good workbook ------------------------------------------------------------------------------

def test_the_example_workbook_imports_a_whole_county(sessions, tmp_path):
    write_template(tmp_path / "example.xlsx", example=True)
    with sessions() as session:
        report = import_file(session, tmp_path / "example.xlsx")
        assert report.errors == [] and report.committed

    with sessions() as session:
        assert counts(session) == {"Jurisdiction": 5, "Department": 3, "User": 4, "RoleGrant": 5}
        grid = session.get(Jurisdiction, "150207001001001")
        assert (grid.level, grid.parent_code, grid.center_name) == ("grid", "150207001001", None)
        court = people.find_department(session, "150207", "court")
        assert (court.presence, court.rotation_start, court.rotation_end) == ("rotating", date(2026, 1, 1), date(2026, 6, 30))
        mediator = people.find_user(session, "sh-mediator")
        # sh-mediator names sh-mediator2, a row further down, as backup (AB岗)
        assert (mediator.display_name, mediator.phone, mediator.backup_username) == ("张调解", "13800000002", "sh-mediator2")
        assert check_password_hash(mediator.password_hash, EXAMPLE_PASSWORD)
        liaison = people.find_user(session, "court-liaison")
        assert [(g.role, g.jurisdiction_code, g.department_id) for g in liaison.grants] == [("liaison", "150207", court.id)]
        admin = people.find_user(session, "jy-admin")
        assert sorted(g.role for g in admin.grants) == ["admin", "director"]
    assert report.summary() == ("辖区：新增 5，更新 0，未变 0；部门：新增 3，更新 0，未变 0；"
                                "用户：新增 4，更新 0，未变 0；角色：新增 5，更新 0，未变 0")


def test_rows_may_refer_to_rows_further_down(sessions, tmp_path):
    path = xlsx(tmp_path, {
        # Roles come first in the file, then the children before their parents, backups before their users.
        "角色": [GRANT_HEADER, ["wang", "调解员", "150207001001", ""]],
        "辖区": [JURISDICTION_HEADER,
                 ["150207001001", "兴胜社区", "社区", "150207001", "兴胜社区综治站"],
                 ["150207001", "沙河街道", "街道", "150207", "沙河街道综治中心"],
                 ["150207", "九原区", "区", "", "九原区综治中心"]],
        "用户": [USER_HEADER,
                 ["wang", "王调解", "150207001001", "", "zhao", "password-1"],
                 ["zhao", "赵调解", "150207001001", "", "wang", "password-2"]],
    })
    with sessions() as session:
        report = import_file(session, path)
        assert report.errors == []
    with sessions() as session:
        assert [j.parent_code for j in session.scalars(select(Jurisdiction).order_by(Jurisdiction.code))] == [
            None, "150207", "150207001"]
        assert {u.username: u.backup_username for u in session.scalars(select(User))} == {"wang": "zhao", "zhao": "wang"}


# -- a bad workbook -------------------------------------------------------------------------------

def test_a_workbook_with_bad_rows_imports_nothing_and_says_where_each_problem_is(sessions, tmp_path):
    path = xlsx(tmp_path, {
        "辖区": [JURISDICTION_HEADER,
                 ["150207", "九原区", "区", "", "九原区综治中心"],          # fine, but must not be written
                 ["150207001", "沙河街道", "镇级", "150207", ""],           # 3: unknown level
                 ["150203001", "昆区街道", "街道", "150207", ""],           # 4: code does not extend the parent's
                 ["150207001001", "兴胜社区", "社区", "150207001", ""]],    # 5: its parent's row failed
        "部门": [DEPARTMENT_HEADER,
                 ["150207", "court", "九原区人民法院", "轮驻", "2026-01-01", ""],   # 2: no rotation end
                 ["150207", "justice", "九原区司法局", "派驻", "", ""]],           # 3: unknown presence
        "用户": [USER_HEADER,
                 ["wang", "王调解", "150207", "13800138000", "", "short"],      # 2: password too short
                 ["li", "李研判", "150299", "", "", "long-enough"],             # 3: unknown jurisdiction
                 ["zhao", "", "150207", "", "", "long-enough"]],                # 4: no name
        "角色": [GRANT_HEADER,
                 ["wang", "调解员", "150207", ""],          # 2: wang's row failed
                 ["zhou", "老板", "150207", ""],            # 3: unknown role
                 ["nobody", "研判员", "150207", ""]],       # 4: no such user
    })
    with sessions() as session:
        report = import_file(session, path)
        assert not report.committed
        assert where(report) == [
            ("辖区", 3, "层级"), ("辖区", 4, "代码"), ("辖区", 5, "上级代码"),
            ("部门", 2, "轮驻结束"), ("部门", 3, "入驻方式"),
            ("用户", 2, "初始密码"), ("用户", 3, "所属辖区"), ("用户", 4, "姓名"),
            ("角色", 2, "用户名"), ("角色", 3, "角色"), ("角色", 4, "用户名"),
        ]
        messages = [str(e) for e in report.errors]
        assert messages[0].startswith("辖区 第 3 行【层级】：层级无效")
        assert "第 3 行有误" in messages[2]  # 兴胜社区 points at the failed 沙河街道 row
        assert "short" not in " ".join(messages)  # passwords are never echoed
    with sessions() as session:
        assert counts(session) == {"Jurisdiction": 0, "Department": 0, "User": 0, "RoleGrant": 0}


def test_missing_and_unknown_columns_are_reported_on_the_header_row(sessions, tmp_path):
    path = xlsx(tmp_path, {
        "辖区": [["代码", "名称", "上级代码", "颜色"], ["150207", "九原区", "", "红"]],
        "人员名单": [["用户名"]],
    })
    with sessions() as session:
        report = import_file(session, path)
    assert where(report) == [("辖区", 1, "颜色"), ("辖区", 1, "层级"), ("人员名单", None, None)]


def test_duplicate_rows_are_reported_against_the_first(sessions, tmp_path):
    path = xlsx(tmp_path, {"辖区": [JURISDICTION_HEADER, ["150207", "九原区", "区", "", ""],
                                    ["150207", "九原区（重）", "区", "", ""]]})
    with sessions() as session:
        report = import_file(session, path)
    assert where(report) == [("辖区", 3, "代码")] and "第 2 行重复" in report.errors[0].message


# -- importing again ------------------------------------------------------------------------------

def test_importing_the_same_workbook_again_changes_nothing(sessions, tmp_path):
    write_template(tmp_path / "example.xlsx", example=True)
    with sessions() as session:
        import_file(session, tmp_path / "example.xlsx")
    with sessions() as session:
        before = counts(session)
        hash_before = people.find_user(session, "jy-admin").password_hash
        report = import_file(session, tmp_path / "example.xlsx")
        assert report.committed
    assert all((c.created, c.changed) == (0, 0) for c in report.counts.values()), report.summary()
    with sessions() as session:
        assert counts(session) == before
        assert people.find_user(session, "jy-admin").password_hash == hash_before


def test_a_second_import_updates_rows_and_keeps_passwords_left_blank(sessions, tmp_path):
    first = xlsx(tmp_path, {
        "辖区": [JURISDICTION_HEADER, ["150207", "九原区", "区", "", "九原区综治中心"]],
        "用户": [USER_HEADER, ["wang", "王调解", "150207", "", "", "first-password"]],
    }, "first.xlsx")
    second = xlsx(tmp_path, {
        "辖区": [JURISDICTION_HEADER, ["150207", "九原区", "区", "", "九原区社会治安综合治理中心"]],
        "用户": [USER_HEADER, ["wang", "王建国", "150207", "13900001111", "", ""]],
    }, "second.xlsx")
    with sessions() as session:
        import_file(session, first)
    with sessions() as session:
        report = import_file(session, second)
        assert report.summary() == "辖区：新增 0，更新 1，未变 0；用户：新增 0，更新 1，未变 0"
    with sessions() as session:
        user = people.find_user(session, "wang")
        assert (user.display_name, user.phone) == ("王建国", "13900001111")
        assert check_password_hash(user.password_hash, "first-password")
        assert session.get(Jurisdiction, "150207").center_name == "九原区社会治安综合治理中心"


def test_a_dry_run_checks_everything_and_writes_nothing(sessions, tmp_path):
    write_template(tmp_path / "example.xlsx", example=True)
    with sessions() as session:
        report = import_file(session, tmp_path / "example.xlsx", dry_run=True)
        assert report.ok and not report.committed
        assert report.counts["用户"].created == 4
    with sessions() as session:
        assert counts(session)["User"] == 0


# -- CSV ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["folder", "bundle.zip"])
def test_a_folder_or_zip_of_csv_files_imports_like_the_workbook(sessions, tmp_path, target):
    write_template(tmp_path / target, example=True)
    with sessions() as session:
        report = import_file(session, tmp_path / target)
        assert report.errors == []
    with sessions() as session:
        assert counts(session) == {"Jurisdiction": 5, "Department": 3, "User": 4, "RoleGrant": 5}


def test_a_single_gbk_csv_sheet_with_english_headers(sessions, tmp_path):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "level", "parent_code", "center_name"])
    writer.writerow(["150207", "九原区", "county", "", "九原区综治中心"])
    writer.writerow(["150207001", "沙河街道", "township", "150207", ""])
    (tmp_path / "辖区.csv").write_bytes(out.getvalue().encode("gbk"))  # as Excel saves it in a Chinese locale
    with sessions() as session:
        report = import_file(session, tmp_path / "辖区.csv")
        assert report.errors == []
    with sessions() as session:
        assert session.get(Jurisdiction, "150207001").name == "沙河街道"


def test_an_unreadable_file_is_one_error(sessions, tmp_path):
    (tmp_path / "org.xlsx").write_bytes(b"not a workbook")
    with sessions() as session:
        report = import_file(session, tmp_path / "org.xlsx")
    assert len(report.errors) == 1 and "不是有效的 .xlsx" in report.errors[0].message


# -- an administrator's import --------------------------------------------------------------------

def test_an_administrator_imports_only_inside_their_county(sessions, tmp_path):
    write_template(tmp_path / "example.xlsx", example=True)
    with sessions() as session:
        import_file(session, tmp_path / "example.xlsx")
        people.save_user(session, "kdl", "昆区用户", "150200", password="long-enough")
        session.commit()
    path = xlsx(tmp_path, {
        "辖区": [JURISDICTION_HEADER,
                 ["150207002", "麻池镇", "镇", "150207", "麻池镇综治中心"],
                 ["150203", "昆都仑区", "区", "150200", ""]],
        "用户": [USER_HEADER, ["kdl", "换个单位", "150207", "", "", ""]],
        "角色": [GRANT_HEADER, ["sh-mediator", "政法委管理者", "150200", ""]],
    }, "county.xlsx")
    with sessions() as session:
        report = import_file(session, path, scope=AdminScope(("150207",)))
    assert where(report) == [("辖区", 3, "代码"), ("用户", 2, "用户名"), ("角色", 2, "辖区代码")]
    assert "不在您的管理范围内" in report.errors[0].message
    with sessions() as session:
        assert session.get(Jurisdiction, "150207002") is None


def test_english_sheet_names_and_headers_report_in_sheet_order(sessions, tmp_path):
    path = xlsx(tmp_path, {
        "grants": [["username", "role", "jurisdiction_code"], ["wang", "mediator", "150207"]],
        "Jurisdictions": [["code", "name", "level", "parent_code"], ["150207", "九原区", "province", ""]],
    })
    with sessions() as session:
        report = import_file(session, path)
    assert where(report) == [("Jurisdictions", 2, "code"), ("grants", 2, "jurisdiction_code")]
