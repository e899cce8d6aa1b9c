"""`fengqiao cases import | template`: registering a 台账 (case ledger) from the command line.

`--as USERNAME` names the user the cases are registered by: their grants decide where they may
register, and every case's events name them as the registrar. The import is recorded like one from
the web page (a LedgerImport row) and is all or nothing; exit status 1 means nothing was imported.
"""
from __future__ import annotations

import sys
from pathlib import Path

from engine.ledger_template import EXAMPLE_PLACE

from .cli_database import configured_sessions

BAR_MIN_ROWS = 20  # shorter files finish before a bar would tell anyone anything
BAR_WIDTH = 30


def add_commands(commands) -> dict:
    """Add the `cases` subcommands to `commands`; returns their handler by command name."""
    cases = commands.add_parser("cases", help="case ledgers (台账): import all or nothing, or write a template")
    case_commands = cases.add_subparsers(dest="cases_command", required=True)
    do_import = case_commands.add_parser("import", help="register every case of an .xlsx or .csv ledger")
    do_import.add_argument("file", type=Path)
    do_import.add_argument("--as", dest="username", required=True,
                           help="the user registering the cases (their grants decide where)")
    do_import.add_argument("--dry-run", action="store_true", help="check every row, register nothing")
    template = case_commands.add_parser("template", help="write the ledger template (.xlsx)")
    template.add_argument("file", type=Path)
    template.add_argument("--place", default=EXAMPLE_PLACE, help="登记地 of the example row")
    return {"cases": _cases}


def _cases(args) -> int:
    from engine.ledger_template import write_template

    if args.cases_command == "template":
        write_template(args.file, _registry(), args.place)
        print(f"已生成模板：{args.file}")
        return 0
    return _import(args)


def _import(args) -> int:
    from engine import people
    from engine.clock import SystemClock
    from engine.errors import NotFound
    from engine.ledger_import import import_file
    from engine.ledger_jobs import open_job, run_job
    from engine.runtime import CaseRuntime

    registry = _registry()
    runtime = CaseRuntime(registry, SystemClock())
    names = {code: category.name for code, category in registry.categories.items()}
    with configured_sessions() as sessions:
        with sessions() as session:
            try:
                user = people.find_user(session, args.username)
            except NotFound:
                return _fail(f"用户 {args.username} 不存在")
            if not user.active:
                return _fail(f"用户 {args.username} 已停用")
            actor = people.actor_for(session, user, runtime.clock.now())
            if args.dry_run:
                report = import_file(session, runtime, args.file, None, actor, dry_run=True)
            else:
                job_id = open_job(session, args.file.name, actor, runtime.clock.now()).id
        if not args.dry_run:
            report = run_job(sessions, runtime, job_id, args.file, args.file.name, actor, listener=_ProgressBar())
    for error in report.errors:
        print(error)
    if report.errors:
        print(f"发现 {len(report.errors)} 处问题，未导入任何案件。", file=sys.stderr)
        return 1
    if report.dry_run:
        print(f"校验通过（试运行，未写入）：共 {report.total} 件")
        return 0
    for case in report.cases:
        print(f"第 {case.row} 行 → {case.code}  {names.get(case.category_code, case.category_code)}")
    print(f"导入完成：共 {len(report.cases)} 件")
    return 0


class _ProgressBar:
    """A one-line bar on stderr, redrawn in place, for files long enough to need one."""

    def __call__(self, done: int, total: int) -> None:
        if total < BAR_MIN_ROWS:
            return
        filled = BAR_WIDTH * done // total
        sys.stderr.write(f"\r导入 [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _registry():
    from engine.forms import FormLibrary
    from engine.registry import ProcessRegistry
    from web import default_config

    config = default_config()
    return ProcessRegistry(Path(config["PROCESSES_DIR"]), FormLibrary(Path(config["FORMS_DIR"])))


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 1
