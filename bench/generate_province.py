"""Generate a province's cases on PostgreSQL for the cockpit benchmark (bench/bench_cockpit.py).

    .venv/bin/python -m bench.generate_province [--cases 1000000] [--schema bench_province] [--fresh]

Writes into its own schema of FENGQIAO_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test), created with the engine's models: a province (150000), its
12 cities, ~100 counties, ~1,000 townships and ~10,000 villages (codes as engine/actors.jurisdiction_prefix
reads them), 8 departments per county, and N cases over the 24 months before GENERATED_NOW with their
human tasks (the category's real user-task element ids, in the order the BPMN file lists them; 6-10 per
case, 1-2 for a case not accepted; completed ones with created and completed times, 1-2 ready ones for an
open case) and 2-3 case events each. Categories come from processes/ and are published as real versions.

The cockpit never reads a workflow, so `workflow_state` is the short constant '{}' — generated cases
cannot be run by the engine. Rows go in through COPY with foreign-key triggers off (the generator
writes consistent ids itself); secondary indexes are dropped before loading and built after, then
VACUUM ANALYZE. A schema that already holds the requested number of cases is kept (--fresh rebuilds).
"""
from __future__ import annotations

import argparse
import math
import os
import random
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from engine.calendar import SHANGHAI
from engine.case_rollup import GRAIN_TABLES, rebuild
from engine.cockpit_board import CHANNEL_NAMES
from engine.db import create_schema, make_engine, make_session_factory
from engine.forms import FormLibrary
from engine.models import Base
from engine.registry import ProcessRegistry
from engine.versions import in_force, sync_from_files

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL_VARIABLE = "FENGQIAO_BENCH_DATABASE_URL"
DEFAULT_SCHEMA = "bench_province"
# "Now" of the generated data: open cases' clocks, 临期 and 超期 are as of this moment.
GENERATED_NOW = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
MONTHS = 24
ROLLUP_TABLES = tuple(table.name for table in GRAIN_TABLES.values())
PROVINCE = "150000"
CITIES = [("1501", "呼和浩特市"), ("1502", "包头市"), ("1503", "乌海市"), ("1504", "赤峰市"), ("1505", "通辽市"),
          ("1506", "鄂尔多斯市"), ("1507", "呼伦贝尔市"), ("1508", "巴彦淖尔市"), ("1509", "乌兰察布市"),
          ("1522", "兴安盟"), ("1525", "锡林郭勒盟"), ("1529", "阿拉善盟")]
TOWNS_PER_COUNTY = 10
VILLAGES_PER_TOWN = 10
DEPARTMENTS = [("court", "人民法院"), ("police", "公安局"), ("petition", "信访局"), ("hrss", "人力资源和社会保障局"),
               ("housing", "住房和城乡建设局"), ("land", "自然资源局"), ("market", "市场监督管理局"), ("health", "卫生健康委员会")]
CATEGORY_WEIGHTS = {"neighbour": 22, "marriage_family": 14, "property_management": 10, "labour": 9, "homestead": 8,
                    "contract": 6, "damages": 6, "traffic": 5, "consumer": 5, "land_forest": 4, "court_referral": 3,
                    "business": 2, "environment": 2, "medical": 1.5, "expropriation": 1.5, "petition": 2, "other": 3}
CHANNEL_WEIGHTS = {"walk_in": 30, "hotline_12345": 20, "police_110": 9, "court": 5, "petition": 5, "grid": 14,
                   "higher_level": 3, "lower_level": 2, "department": 4, "online": 8}
RISK_WEIGHTS = {"绿": 40, "蓝": 28, "黄": 20, "橙": 8, "红": 4}
UNIT_HOURS = {"日": 24.0, "工作日": 24 * 7 / 5, "小时": 1.0, "分钟": 1 / 60}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Step:
    element_id: str
    name: str
    role: str
    form: str
    deadline: str
    limit_s: float
    warn_share: float


@dataclass(frozen=True)
class Kind:
    code: str
    spec_hash: str
    version_id: int
    title: str
    steps: tuple[Step, ...]


def database_url() -> str:
    return os.environ.get(URL_VARIABLE, DEFAULT_URL)


def schema_engine(url: str, schema: str) -> Engine:
    """An engine whose connections see `schema` only."""
    admin = make_engine(url)
    return create_engine(admin.url, connect_args={"options": f"-csearch_path={schema}"})


def existing_count(url: str, schema: str) -> int | None:
    """Cases already in `schema`, or None when it has no case table."""
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'case'",
                             (schema,)).fetchone()
        if not found:
            return None
        return conn.execute(f'SELECT count(*) FROM "{schema}"."case"').fetchone()[0]


def generate(url: str, schema: str, cases: int, *, fresh: bool = False, seed: int = 7, out=print) -> bool:
    """Build the province in `schema`; False when it already held `cases` cases and was kept."""
    if not fresh and existing_count(url, schema) == cases:
        out(f"schema {schema} already holds {cases:,} cases; kept (--fresh rebuilds)")
        ensure_rollup(url, schema, out)
        return False
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    engine = schema_engine(url, schema)
    create_schema(engine)
    kinds = _publish_categories(engine)
    loaded = [Base.metadata.tables[name] for name in ("case", "human_task", "case_event")]
    with engine.begin() as conn:
        for table in loaded:
            for index in table.indexes:
                index.drop(conn)
    rng = random.Random(seed)
    places = _load_places(url, schema, rng)
    out(f"jurisdictions: {len(places.villages):,} villages in {len(places.counties)} counties, "
        f"{sum(len(d) for d in places.departments.values())} departments")
    _load_cases(url, schema, cases, kinds, places, rng, out, started)
    out(f"building indexes ({time.perf_counter() - started:.0f} s)")
    with engine.begin() as conn:
        for table in loaded:
            for index in table.indexes:
                index.create(conn)
    # The cases were loaded with COPY, past the engine's flush hook: the cockpit's monthly rollup is
    # computed from them once here.
    _rebuild_rollup(engine, out, started)
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("case", "human_task", "case_event", "jurisdiction", "department", *ROLLUP_TABLES):
            conn.execute(f'VACUUM ANALYZE "{schema}"."{table}"')
    engine.dispose()
    out(f"done: {cases:,} cases in {time.perf_counter() - started:.0f} s")
    return True


def ensure_rollup(url: str, schema: str, out=print) -> None:
    """Create and fill the rollup tables of a province generated before they existed."""
    engine = schema_engine(url, schema)
    try:
        create_schema(engine)
        with engine.connect() as conn:
            filled = all(conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar()
                         for table in ROLLUP_TABLES)
        if not filled:
            _rebuild_rollup(engine, out, time.perf_counter())
            with psycopg.connect(url, autocommit=True) as conn:
                for table in ROLLUP_TABLES:
                    conn.execute(f'VACUUM ANALYZE "{schema}"."{table}"')
    finally:
        engine.dispose()


def _rebuild_rollup(engine: Engine, out, started: float) -> None:
    out(f"building the rollup ({time.perf_counter() - started:.0f} s)")
    with make_session_factory(engine)() as session:
        rows = rebuild(session)
        session.commit()
    out(f"rollup: {rows['month']:,} monthly rows, {rows['day']:,} daily rows ({time.perf_counter() - started:.0f} s)")


def _publish_categories(engine: Engine) -> list[tuple[Kind, float]]:
    registry = ProcessRegistry(ROOT / "processes", FormLibrary(ROOT / "forms"))
    sessions = make_session_factory(engine)
    published_at = GENERATED_NOW - timedelta(days=31 * MONTHS + 30)
    kinds = []
    with sessions() as session:
        sync_from_files(session, registry, published_at)
        session.commit()
        for code, category in sorted(registry.categories.items()):
            version = in_force(session, code, "")
            steps = tuple(Step(t.element_id, t.name, t.role, t.form, str(t.deadline),
                               t.deadline.amount * UNIT_HOURS[t.deadline.unit.value] * 3600, t.warn_share)
                          for t in category.bundle.tasks.values())
            kind = Kind(code, version.spec_hash, version.id, category.name, steps)
            kinds.append((kind, CATEGORY_WEIGHTS.get(code, 1.0)))
    return kinds


@dataclass
class Places:
    cities: list[str]
    counties: list[str]
    villages: list[str]
    village_weights: list[float]
    departments: dict[str, list[tuple[int, str]]]  # county code -> [(id, name)]


def _load_places(url: str, schema: str, rng: random.Random) -> Places:
    rows, counties, villages, weights, departments = [], [], [], [], {}
    rows.append((PROVINCE, "内蒙古自治区", "province", None, "自治区社会治安综合治理中心"))
    department_rows, department_id = [], 0
    for city_index, (city, city_name) in enumerate(CITIES):
        city_code = city + "00"
        rows.append((city_code, city_name, "city", PROVINCE, f"{city_name}综治中心"))
        city_weight = rng.lognormvariate(0, 0.6)
        for county_number in range(2, 2 + (9 if city_index % 2 else 8)):
            county = f"{city}{county_number:02d}"
            county_name = "九原区" if county == "150207" else f"{city_name[:2]}第{county_number}区县"
            counties.append(county)
            rows.append((county, county_name, "county", city_code, f"{county_name}综治中心"))
            county_weight = city_weight * rng.lognormvariate(0, 0.5)
            departments[county] = []
            for code, name in DEPARTMENTS:
                department_id += 1
                department_rows.append((department_id, county, code, f"{county_name}{name}", "resident", None, None, True))
                departments[county].append((department_id, name))
            for town_number in range(1, TOWNS_PER_COUNTY + 1):
                town = f"{county}{town_number:03d}"
                rows.append((town, f"{county_name}第{town_number}镇", "township", county, f"第{town_number}镇综治中心"))
                for village_number in range(1, VILLAGES_PER_TOWN + 1):
                    village = f"{town}{village_number:03d}"
                    rows.append((village, f"第{town_number}镇{village_number}村", "village", town, f"{village_number}村综治站"))
                    villages.append(village)
                    weights.append(county_weight * rng.uniform(0.3, 1.7))
    with psycopg.connect(url) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        with conn.cursor().copy("COPY jurisdiction (code, name, level, parent_code, center_name) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with conn.cursor().copy("COPY department (id, jurisdiction_code, code, name, presence, rotation_start, "
                                "rotation_end, active) FROM STDIN") as copy:
            for row in department_rows:
                copy.write_row(row)
    return Places([c + "00" for c, _ in CITIES], counties, villages, weights, departments)


CASE_COLUMNS = ("id, code, category_code, spec_hash, process_version_id, jurisdiction_code, handling_jurisdiction_code, "
                "status, title, current_nodes, risk_color, handling_level, department, department_id, is_overdue, "
                "is_paused, intake, data, created_by, created_at, updated_at, closed_at, workflow_state, version, "
                "is_repeat, intake_channel, outcome, referred_out, satisfaction, second_supervision_count, "
                "agreement_amount, performed, next_warn_at, next_due_at")
TASK_COLUMNS = ("id, case_id, element_id, name, role, form, state, jurisdiction_code, department_id, claimed_by, "
                "claimed_at, deadline, created_at, warn_at, due_at, deadline_provisional, warned_at, overdue_at, "
                "completed_at, completed_by, paused_at, pause_reason, extensions_granted, paused_timers, "
                "form_defaults, category_code")
EVENT_COLUMNS = "id, case_id, at, actor, kind, element_id, task_id, summary, data"
N = r"\N"


def _table(weights: dict, size: int = 1000) -> list:
    """A lookup list: picking uniformly from it picks by `weights`."""
    total = sum(weights.values())
    table = []
    for value, weight in weights.items():
        table += [value] * max(1, round(size * weight / total))
    return table


class _Times:
    """Formats UTC epoch seconds as PostgreSQL timestamps, caching the date part (millions of rows)."""

    def __init__(self):
        self.days: dict[int, str] = {}

    def __call__(self, seconds: float | None) -> str:
        if seconds is None:
            return N
        whole = int(seconds)
        day, rest = divmod(whole, 86400)
        text_day = self.days.get(day)
        if text_day is None:
            text_day = self.days[day] = (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
        return f"{text_day} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def _load_cases(url: str, schema: str, cases: int, kinds, places: Places, rng: random.Random, out, started) -> None:
    now = (GENERATED_NOW - EPOCH).total_seconds()
    first = now - MONTHS * 30.44 * 86400
    kind_table = [k for k, w in kinds for _ in range(max(1, round(w * 10)))]
    # Every channel the board names, weighted (a channel added there later gets a small share).
    channel_table = _table({channel: CHANNEL_WEIGHTS.get(channel, 1) for channel in CHANNEL_NAMES})
    risk_table = _table(RISK_WEIGHTS)
    village_cum = []
    total = 0.0
    for weight in places.village_weights:
        total += weight
        village_cum.append(total)
    stamp = _Times()
    connections = [psycopg.connect(url) for _ in range(3)]
    try:
        copies = []
        for conn, (table, columns) in zip(connections, (('"case"', CASE_COLUMNS), ("human_task", TASK_COLUMNS),
                                                        ("case_event", EVENT_COLUMNS))):
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute("SET session_replication_role = replica")  # the generator keeps references consistent
            copy = conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN")
            copies.append((copy, copy.__enter__()))
        case_lines, task_lines, event_lines = [], [], []
        event_id = 0
        batch = 20000
        # Cases grow ~30 % over the two years (a gently rising density); ids follow registration
        # order, as they do when cases are registered one after the other.
        created_times = sorted(first + (now - first) * _rising(rng.random()) for _ in range(cases))
        for case_id in range(1, cases + 1):
            created = created_times[case_id - 1]
            kind = kind_table[int(rng.random() * len(kind_table))]
            village = places.villages[min(bisect_left(village_cum, rng.random() * total), len(village_cum) - 1)]
            town, county = village[:9], village[:6]
            registered_at = rng.random()
            level_draw = rng.random()
            if registered_at < 0.1:
                registered, level = county, "county"
            elif registered_at < 0.3:
                registered, level = town, ("township" if level_draw < 0.8 else "county")
            else:
                registered = village
                level = "village" if level_draw < 0.5 else "township" if level_draw < 0.9 else "county"
            handling = {"village": village, "township": town, "county": county}[level]
            age = now - created
            open_case = rng.random() < 0.9 * math.exp(-age / (45 * 86400)) + 0.03
            outcome_draw = rng.random()
            rejected = outcome_draw < 0.08
            department_id = department_name = None
            if not rejected and rng.random() < 0.55:
                department_id, department_name = places.departments[county][int(rng.random() * len(DEPARTMENTS))]
            steps = kind.steps
            if rejected:
                path = steps[:1 + (rng.random() < 0.5)]
            else:
                path = steps[:min(len(steps), 6 + int(rng.random() * 5))]
            # Each step takes a share of its limit (lognormal around 35 %, about one in ten overruns).
            spans = [s.limit_s * min(6.0, rng.lognormvariate(math.log(0.35), 0.8)) for s in path]
            if open_case:
                done = int(rng.random() * len(path))
                ready_steps = [done] + ([done + 1] if done + 1 < len(path) and rng.random() < 0.15 else [])
                # The ready task has waited a share of its limit (about one in five beyond it); the
                # completed ones fit in the time before.
                waiting = min(age * 0.98, path[done].limit_s * rng.lognormvariate(math.log(0.5), 0.9))
                room, ready_start = age - waiting, now - waiting
                finished = sum(spans[:done])
                if finished > room:
                    spans = [span * room / finished for span in spans[:done]] + spans[done:]
                    finished = room
            else:
                done, ready_steps, ready_start = len(path), [], now
                finished = sum(spans)
                if finished > age * 0.98:
                    spans = [span * age * 0.98 / finished for span in spans]
            code = f"{handling[:6]}{int(created // 86400) % 10000:04d}{case_id:08d}"
            mediator = f"u{county}{int(rng.random() * 12):02d}"
            at = created
            ready_ids, next_warn, next_due, overdue_case, paused_case = [], None, None, False, False
            last_completed = None
            for index, step in enumerate(path):
                task_id = f"g{case_id:08d}-{index:02d}"
                department = department_id if step.role == "liaison" else None
                if index < done:
                    span = spans[index]
                    completed = at + span
                    due = at + step.limit_s
                    task_lines.append("\t".join((
                        task_id, str(case_id), step.element_id, step.name, step.role, step.form, "completed", handling,
                        _n(department), mediator, stamp(at + span * 0.1), step.deadline, stamp(at),
                        stamp(at + step.limit_s * step.warn_share), stamp(due), "f",
                        stamp(at + step.limit_s * step.warn_share) if completed > at + step.limit_s * step.warn_share else N,
                        stamp(due) if completed > due else N, stamp(completed), mediator, N, N, "0", "{}", "{}",
                        kind.code)))
                    last_completed = (step, task_id, completed)
                    at = completed
                elif index in ready_steps:
                    created_task = ready_start
                    warn, due = created_task + step.limit_s * step.warn_share, created_task + step.limit_s
                    paused = rng.random() < 0.02
                    claimed = rng.random() < 0.6
                    task_lines.append("\t".join((
                        task_id, str(case_id), step.element_id, step.name, step.role, step.form, "ready", handling,
                        _n(department), mediator if claimed else N, stamp(created_task + 600) if claimed else N,
                        step.deadline, stamp(created_task), stamp(warn), stamp(due), "f",
                        stamp(warn) if warn < now else N, stamp(due) if due < now and not paused else N, N, N,
                        stamp(now - rng.uniform(0, 10) * 86400) if paused else N, "鉴定" if paused else N, "0", "{}",
                        "{}", kind.code)))
                    ready_ids.append(step.element_id)
                    paused_case = paused_case or paused
                    if not paused:
                        next_warn = warn if next_warn is None else min(next_warn, warn)
                        next_due = due if next_due is None else min(next_due, due)
                        overdue_case = overdue_case or due < now
            closed = None if open_case else at
            if open_case:
                status, outcome = "open", None
            elif rejected:
                status, outcome = "concluded", "rejected"
            elif outcome_draw < 0.78:
                status, outcome = "concluded", "resolved"
            else:
                status, outcome = ("terminated" if rng.random() < 0.5 else "concluded"), "unresolved"
            satisfaction = N
            if outcome in ("resolved", "unresolved") and rng.random() < 0.8:
                draw = rng.random()
                if outcome == "resolved":
                    satisfaction = "satisfied" if draw < 0.75 else "basically_satisfied" if draw < 0.95 else "dissatisfied"
                else:
                    satisfaction = "satisfied" if draw < 0.3 else "basically_satisfied" if draw < 0.65 else "dissatisfied"
            performed = N
            amount = N
            if outcome == "resolved" and rng.random() < 0.6:
                amount = f"{rng.randrange(200, 200000)}.00"
                if rng.random() < 0.5:
                    performed = "t" if rng.random() < 0.9 else "f"
            referred = "t" if outcome == "unresolved" and rng.random() < 0.6 else "f"
            supervision = "2" if rng.random() < 0.005 else "1" if rng.random() < 0.03 else "0"
            channel = channel_table[int(rng.random() * len(channel_table))]
            risk = N if rejected or rng.random() < 0.03 else risk_table[int(rng.random() * len(risk_table))]
            nodes = "[" + ", ".join(f'"{e}"' for e in ready_ids) + "]"
            case_lines.append("\t".join((
                str(case_id), code, kind.code, kind.spec_hash, str(kind.version_id), registered, handling, status,
                f"{kind.title}（{case_id}）", nodes, risk, N if rejected else level, _n(department_name),
                _n(department_id), "t" if overdue_case else "f", "t" if paused_case else "f",
                f'{{"channel": "{channel}"}}', "{}", f"c{registered[:9]}", stamp(created),
                stamp(closed if closed is not None else at), stamp(closed), "{}", "1",
                "t" if rng.random() < 0.02 else "f", channel, _n(outcome), referred, satisfaction, supervision, amount,
                performed, stamp(next_warn), stamp(next_due))))
            event_id += 1
            event_lines.append(f"{event_id}\t{case_id}\t{stamp(created)}\tc{registered[:9]}\tcase_started\t{N}\t{N}\t"
                               f"登记受理：{kind.title}\t{{}}")
            if last_completed is not None:
                step, task_id, completed = last_completed
                event_id += 1
                event_lines.append(f"{event_id}\t{case_id}\t{stamp(completed)}\t{mediator}\ttask_completed\t"
                                   f"{step.element_id}\t{task_id}\t办理：{step.name}\t{{}}")
            if closed is not None:
                event_id += 1
                event_lines.append(f"{event_id}\t{case_id}\t{stamp(closed)}\tsystem\tcase_closed\t{N}\t{N}\t"
                                   f"{'已终止' if status == 'terminated' else '已办结'}\t{{}}")
            if case_id % batch == 0 or case_id == cases:
                for (_, copy), lines in zip(copies, (case_lines, task_lines, event_lines)):
                    copy.write("\n".join(lines) + "\n" if lines else "")
                case_lines, task_lines, event_lines = [], [], []
                if case_id % (batch * 10) == 0 or case_id == cases:
                    out(f"  {case_id:,} cases written ({time.perf_counter() - started:.0f} s)")
        for copy_manager, _ in copies:
            copy_manager.__exit__(None, None, None)
        for conn in connections:
            conn.commit()
    finally:
        for conn in connections:
            conn.close()


def _rising(u: float) -> float:
    """Inverse of a linear density rising from 1 to 1.3 over [0, 1]: more cases lately."""
    a, b = 1.0, 1.3
    return (-a + math.sqrt(a * a + (b * b - a * a) * u)) / (b - a)


def _n(value) -> str:
    return N if value is None else str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--fresh", action="store_true", help="rebuild even if the schema holds the cases")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    generate(database_url(), args.schema, args.cases, fresh=args.fresh, seed=args.seed)


if __name__ == "__main__":
    main()
