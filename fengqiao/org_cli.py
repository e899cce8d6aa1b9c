"""`fengqiao org | jurisdiction | department | user`: the organisation from the command line.

Every command works on the configured database (FENGQIAO_DATABASE_URL) with the same engine
functions as the admin pages, so the same rules apply; the CLI is not limited to one subtree.
Problems go to stderr with exit status 1; passwords are read from stdin or typed without echo.
"""
from __future__ import annotations

import getpass
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from engine import jurisdictions, people
from engine.errors import NotFound
from engine.jurisdictions import LEVEL_NAMES, TreeError
from engine.masking import mask_phone
from engine.people import PRESENCE, PeopleError
from engine.task_meta import ROLES

from .cli_database import configured_database


def add_commands(commands) -> dict:
    """Add the organisation subcommands to `commands`; returns their handlers by command name."""
    org = commands.add_parser("org", help="organisation workbook: import or write a template")
    org_commands = org.add_subparsers(dest="org_command", required=True)
    do_import = org_commands.add_parser("import", help="import 辖区/部门/用户/角色 from .xlsx, .zip, a CSV or a folder")
    do_import.add_argument("file", type=Path)
    do_import.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    template = org_commands.add_parser("template", help="write an empty workbook (.xlsx, .zip or a CSV folder)")
    template.add_argument("file", type=Path)
    template.add_argument("--example", action="store_true", help="fill it with a small example county")

    place = commands.add_parser("jurisdiction", help="the 行政区划 tree")
    place_commands = place.add_subparsers(dest="jurisdiction_command", required=True)
    add = place_commands.add_parser("add", help="add (or update) a jurisdiction")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("level", help="city/county/township/village/grid or 市/县/乡镇/村/网格…")
    add.add_argument("--parent", default=None)
    add.add_argument("--center", default=None, help="name of its 综治中心 / 综治站")
    show = place_commands.add_parser("list", help="print the tree (below CODE, or all of it)")
    show.add_argument("code", nargs="?")

    department = commands.add_parser("department", help="departments stationed at a center (入驻部门)")
    department_commands = department.add_subparsers(dest="department_command", required=True)
    add = department_commands.add_parser("add", help="add (or update) a department")
    add.add_argument("jurisdiction")
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("presence", help="resident/rotating/on_call or 常驻/轮驻/随驻")
    add.add_argument("--start", type=date.fromisoformat, help="轮驻 from (YYYY-MM-DD)")
    add.add_argument("--end", type=date.fromisoformat, help="轮驻 until (YYYY-MM-DD)")
    add.add_argument("--inactive", action="store_true", help="stationed no longer")
    show = department_commands.add_parser("list", help="departments of one center, or of all")
    show.add_argument("jurisdiction", nargs="?")

    user = commands.add_parser("user", help="users, their roles and their accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name (姓名)")
    add.add_argument("--jurisdiction", required=True, help="their own unit's code")
    add.add_argument("--phone")
    add.add_argument("--backup", help="AB岗: the colleague who stands in while they are away")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for name, help_text in (("grant", "give a role over a jurisdiction"), ("revoke", "take a role away")):
        command = user_commands.add_parser(name, help=help_text)
        command.add_argument("username")
        command.add_argument("role", help="code (mediator) or Chinese name (调解员)")
        command.add_argument("jurisdiction")
        command.add_argument("--department", help="department code (部门联络员 only)")
    passwd = user_commands.add_parser("passwd", help="set a new password (also lifts a lockout)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    for name, help_text in (("unlock", "lift a lockout after wrong passwords"), ("disable", "stop a user logging in"),
                            ("enable", "let a disabled user log in again")):
        user_commands.add_parser(name, help=help_text).add_argument("username")
    show = user_commands.add_parser("list", help="users (phone numbers masked)")
    show.add_argument("--jurisdiction", help="only users of this unit and below")
    show.add_argument("--role", help="only users holding this role")
    return {"org": _org, "jurisdiction": _jurisdiction, "department": _department, "user": _user}


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 1


# -- org ------------------------------------------------------------------------------------------

def _org(args) -> int:
    from engine.org_import import import_file
    from engine.org_workbook import write_template

    if args.org_command == "template":
        write_template(args.file, example=args.example)
        print(f"已生成模板：{args.file}")
        return 0
    with configured_database() as session:
        report = import_file(session, args.file, dry_run=args.dry_run)
    for error in report.errors:
        print(error)
    if report.errors:
        print(f"发现 {len(report.errors)} 处问题，未导入任何内容。", file=sys.stderr)
        return 1
    print(report.summary())
    print("校验通过（试运行，未写入）" if report.dry_run else "导入完成")
    return 0


# -- jurisdiction ---------------------------------------------------------------------------------

def _jurisdiction(args) -> int:
    with configured_database() as session:
        if args.jurisdiction_command == "list":
            return _print_tree(session, args.code)
        level = jurisdictions.parse_level(args.level)
        if level is None:
            return _fail(f"层级 {args.level!r} 无效，应为 " + "、".join(LEVEL_NAMES.values()))
        existed = jurisdictions.get(session, args.code) is not None
        try:
            row = jurisdictions.save(session, args.code, args.name, level, args.parent, args.center)
        except TreeError as exc:
            return _fail(str(exc))
        session.commit()
        print(f"{'已更新' if existed else '已添加'}：{row.code} {row.name}（{LEVEL_NAMES[row.level]}）")
    return 0


def _print_tree(session, code: str | None) -> int:
    from sqlalchemy import select

    from engine.models import Jurisdiction

    if code:
        if jurisdictions.get(session, code) is None:
            return _fail(f"辖区 {code} 不存在")
        rows = jurisdictions.subtree(session, code)
    else:
        rows = list(session.scalars(select(Jurisdiction).order_by(Jurisdiction.code)))
    known = {row.code for row in rows}
    by_parent: dict[str | None, list] = {}
    for row in rows:
        parent = row.parent_code if row.parent_code in known else None
        by_parent.setdefault(parent, []).append(row)

    def walk(parent, depth):
        for row in sorted(by_parent.get(parent, []), key=lambda r: r.code):
            center = f"  {row.center_name}" if row.center_name else ""
            print(f"{'  ' * depth}{row.code} {row.name}［{LEVEL_NAMES.get(row.level, row.level)}］{center}")
            walk(row.code, depth + 1)

    walk(None, 0)
    if not rows:
        print("（尚无辖区）")
    return 0


# -- department -----------------------------------------------------------------------------------

def _department(args) -> int:
    from sqlalchemy import select

    from engine.models import Department

    with configured_database() as session:
        if args.department_command == "list":
            query = select(Department).order_by(Department.jurisdiction_code, Department.code)
            if args.jurisdiction:
                query = query.where(Department.jurisdiction_code == args.jurisdiction)
            rows = session.scalars(query).all()
            for row in rows:
                when = f" {row.rotation_start}～{row.rotation_end}" if row.presence == "rotating" else ""
                state = "" if row.active else "（已停用）"
                print(f"{row.jurisdiction_code} {row.code} {row.name} {PRESENCE[row.presence]}{when}{state}")
            if not rows:
                print("（没有部门）")
            return 0
        presence = people.parse_presence(args.presence)
        if presence is None:
            return _fail(f"入驻方式 {args.presence!r} 无效，应为常驻、轮驻或随驻")
        existed = people.find_department(session, args.jurisdiction, args.code) is not None
        try:
            row = people.save_department(session, args.jurisdiction, args.code, args.name, presence,
                                         args.start, args.end, active=not args.inactive)
        except PeopleError as exc:
            return _fail(str(exc))
        session.commit()
        print(f"{'已更新' if existed else '已添加'}：{row.jurisdiction_code} {row.code} {row.name}（{PRESENCE[row.presence]}）")
    return 0


# -- user -----------------------------------------------------------------------------------------

def _user(args) -> int:
    with configured_database() as session:
        command = args.user_command
        if command == "list":
            return _list_users(session, args)
        if command == "add":
            return _add_user(session, args)
        try:
            user = people.find_user(session, args.username)
        except NotFound:
            return _fail(f"用户 {args.username} 不存在")
        try:
            message = _change_user(session, user, args)
        except PeopleError as exc:
            return _fail(str(exc))
        if message.startswith("错误："):
            return _fail(message[3:])
        session.commit()
        print(message)
    return 0


def _add_user(session, args) -> int:
    try:
        people.find_user(session, args.username)
        return _fail(f"用户 {args.username} 已存在")
    except NotFound:
        pass
    password = _read_password(args.password_stdin)
    if password is None:
        return _fail("两次输入的密码不一致")
    try:
        user = people.save_user(session, args.username, args.name, args.jurisdiction, password=password,
                                phone=args.phone, backup_username=args.backup)
    except PeopleError as exc:
        return _fail(str(exc))
    session.commit()
    print(f"已添加用户：{user.username}（{user.display_name}）；请用 `fengqiao user grant` 授予角色")
    return 0


def _change_user(session, user, args) -> str:
    """Apply grant/revoke/passwd/unlock/disable/enable to `user`; the message to print."""
    command = args.user_command
    if command in ("grant", "revoke"):
        role = people.parse_role(args.role)
        if role is None:
            return "错误：角色无效，应为" + "、".join(ROLES.values()) + "之一"
        department_id = None
        if args.department:
            department = people.find_department(session, args.jurisdiction, args.department)
            if department is None:
                return f"错误：辖区 {args.jurisdiction} 没有代码为 {args.department} 的部门"
            department_id = department.id
        if command == "grant":
            people.grant(session, user, role, args.jurisdiction, department_id)
            return f"已授予 {user.username}：{ROLES[role]}（{args.jurisdiction}）"
        held = people.holds(user, role, args.jurisdiction, department_id)
        if held is None:
            return f"错误：{user.username} 没有 {ROLES[role]}（{args.jurisdiction}）的角色"
        people.revoke(session, user, held.id)
        return f"已撤销 {user.username}：{ROLES[role]}（{args.jurisdiction}）"
    if command == "passwd":
        password = _read_password(args.password_stdin)
        if password is None:
            return "错误：两次输入的密码不一致"
        people.set_password(user, password)
        return f"已重设 {user.username} 的密码"
    if command == "unlock":
        people.unlock(user)
        return f"已解除 {user.username} 的锁定"
    people.set_active(user, command == "enable")
    return f"已{'启用' if command == 'enable' else '停用'}用户 {user.username}"


def _read_password(from_stdin: bool) -> str | None:
    """The new password: one line of stdin, or typed twice without echo (None if they differ)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("新密码：")
    return first if getpass.getpass("再输入一次：") == first else None


def _list_users(session, args) -> int:
    from sqlalchemy import select

    from engine.models import RoleGrant, User
    from engine.org_scope import AdminScope

    query = select(User).order_by(User.jurisdiction_code, User.username)
    if args.jurisdiction:
        query = query.where(AdminScope((args.jurisdiction,)).condition(User.jurisdiction_code))
    if args.role:
        role = people.parse_role(args.role)
        if role is None:
            return _fail("角色无效，应为" + "、".join(ROLES.values()) + "之一")
        query = query.where(User.grants.any(RoleGrant.role == role))
    users = session.scalars(query).all()
    now = datetime.now(timezone.utc)
    for user in users:
        roles = "、".join(_grant_label(session, g) for g in user.grants) or "无角色"
        state = ("" if user.active else "（已停用）") + ("（已锁定）" if people.is_locked(user, now) else "")
        print(f"{user.username}  {user.display_name}  {user.jurisdiction_code}  {mask_phone(user.phone) or '-'}"
              f"  {roles}{state}")
    if not users:
        print("（没有用户）")
    return 0


def _grant_label(session, grant) -> str:
    from engine.models import Department

    label = f"{ROLES.get(grant.role, grant.role)}@{grant.jurisdiction_code}"
    department = session.get(Department, grant.department_id) if grant.department_id else None
    return f"{label}/{department.code}" if department else label
