"""`fengqiao stats rebuild`: recompute the cockpit's rollup (case_month_stat, case_day_stat) from
the cases.

Needed once for a database that held cases before the rollup existed, and after bulk loads that
bypass the engine; the engine keeps the rollup in step on every write otherwise.
"""
from __future__ import annotations

from .cli_database import configured_database


def add_commands(commands) -> dict:
    """Add the `stats` subcommands to `commands`; returns their handlers by command name."""
    stats = commands.add_parser("stats", help="the cockpit's rollup of in-period counts")
    stats_commands = stats.add_subparsers(dest="stats_command", required=True)
    stats_commands.add_parser("rebuild", help="recompute case_month_stat and case_day_stat from the case table (one transaction)")
    return {"stats": _stats}


def _stats(args) -> int:
    from engine.case_rollup import rebuild

    with configured_database() as session:
        rows = rebuild(session)
        session.commit()
    print(f"rollup rebuilt: case_month_stat {rows['month']} rows, case_day_stat {rows['day']} rows")
    return 0
