"""Simulating a draft before it is published (模拟运行): the real engine, a fake clock, scripted
answers, path by path — and nothing written to the real database.

The draft is loaded the way lint and publishing load it (engine/draft_files.draft_tree); a draft
with errors is not run, its problems are returned with the texts of `fengqiao check`. Otherwise it
is published at its level into a scratch in-memory database holding a copy of the organisation the
sample case can reach (engine/simulation_db.py), and sample cases run through CaseRuntime exactly
as a real one does: registered at a place below the designer's jurisdiction by that
jurisdiction's window, tasks completed with the answers of engine/simulation_answers.py, timers
fired by moving the fake clock. engine/simulation_runs.py chooses the paths; the report
(engine/simulation_report.py) says for each which tasks came, to whom, by when, which timers fired
and documents were issued, how the case ended, and which elements no path reached.
"""
from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy.orm import Session

from .actors import Actor, code_covers
from .clock import FakeClock
from .designed_categories import new_category_of
from .draft_elements import FlowElement, draft_elements, referenced_names
from .draft_files import DraftTree, draft_tree, lint_draft
from .errors import VersionError
from .models import Jurisdiction
from .registry import ProcessRegistry
from .runtime import CaseRuntime
from .script_limits import DEFAULT_LIMITS, ScriptLimits
from .simulation_answers import AnswerBook, SimulationInputError
from .simulation_db import ScratchDatabase, default_place, scratch_database
from .simulation_report import SimulationReport
from .simulation_runs import Explorer
from .variant_lookup import ancestors
from .variants import VariantError
from .versions import publish

__all__ = ["MAX_RUNS", "SimulationInputError", "SimulationReport", "default_answers", "simulate"]

MAX_RUNS = 40
SIMULATION_USER = "simulation"
# Set while sample cases run, so observers of real runs (the tests' BPMN coverage) can leave them out.
SIMULATING: ContextVar[bool] = ContextVar("fengqiao_simulating", default=False)


def simulate(session: Session, registry: ProcessRegistry, category_code: str, jurisdiction_code: str,
             files: dict[str, str], *, start: datetime, answers: Mapping[str, Any] | None = None,
             intake: Mapping[str, Any] | None = None, place: str | None = None, max_paths: int = MAX_RUNS,
             script_limits: ScriptLimits = DEFAULT_LIMITS) -> SimulationReport:
    """Run the draft `files` of `category_code` for `jurisdiction_code` ("" = the base) path by path
    from `start` (aware) and report what each path did. `session` is only read.

    `answers` maps a user task's element id or form name to (part of) the data to submit; `intake`
    is (part of) the registration form; `place` where the sample case is registered (default: the
    first village with a station below the jurisdiction); at most `max_paths` cases are run (each
    a new path or a repeat of one, which the report counts apart). Raises SimulationInputError
    naming the field of bad input.
    """
    if start.tzinfo is None:
        raise SimulationInputError("start", "开始时间缺少时区")
    for name, value in (("answers", answers), ("intake", intake)):
        if value is not None and not isinstance(value, Mapping):
            raise SimulationInputError(name, "应为 JSON 对象 {名称: 值}")
    place = (place or "").strip() or default_place(session, jurisdiction_code)
    if not code_covers(jurisdiction_code, place):
        raise SimulationInputError("place", f"登记地 {place} 不在本草稿的辖区 {jurisdiction_code} 之内")
    chain = ancestors(session, jurisdiction_code)
    designed = new_category_of(session, category_code)  # a category created in the designer, or None
    report = SimulationReport(category_code, jurisdiction_code, place, _place_name(session, place), start,
                              max_runs=max_paths)
    problems = lint_draft(registry, category_code, chain, files, designed)
    report.warnings = [str(p) for p in problems if not p.is_error]
    report.problems = [str(p) for p in problems if p.is_error]
    if report.problems:
        return report
    with draft_tree(registry, category_code, chain, files, designed) as tree:
        database = scratch_database(session, jurisdiction_code, place)
        try:
            bundle = _publish(database, tree, category_code, jurisdiction_code, chain, start, designed is not None)
        except VersionError as exc:
            database.close()
            report.problems = [str(exc)]
            return report
        clock = FakeClock(start)
        runtime = CaseRuntime(tree.registry, clock, script_limits=script_limits)
        book = AnswerBook(bundle, referenced_names(_process_files(tree)), answers or {}, start)
        try:
            report.defaults = book.defaults()
            book.check()
            with database.sessions() as scratch:
                report.intake = book.intake(runtime.intake_form(scratch, category_code, place), intake or {})
            base_image = database.image()
        finally:
            database.close()
        elements = draft_elements(files)
        registrar = Actor.of(SIMULATION_USER, {"clerk"}, jurisdiction_code or place, "模拟运行")
        explorer = Explorer(base_image, runtime, clock, book, category_code, place, report.intake, registrar,
                            _flow_map(elements), [element.element_id for element in elements])
        running = SIMULATING.set(True)
        try:
            explorer.explore(report, max_paths)
        finally:
            SIMULATING.reset(running)
        report.unreached = [element for element in elements if element.element_id not in explorer.covered]
    return report


def default_answers(session: Session, registry: ProcessRegistry, category_code: str, jurisdiction_code: str,
                    files: dict[str, str], start: datetime) -> dict[str, dict[str, Any]]:
    """The answer a simulation generates for each user task of the draft, by element id — what the
    designer starts from when scripting answers. Empty for a draft with errors."""
    chain = ancestors(session, jurisdiction_code)
    designed = new_category_of(session, category_code)
    if any(p.is_error for p in lint_draft(registry, category_code, chain, files, designed)):
        return {}
    with draft_tree(registry, category_code, chain, files, designed) as tree:
        try:
            bundle = tree.registry.variants.resolve(category_code, chain).bundle()
        except VariantError:  # a draft the lint passed but that does not build: nothing to offer
            return {}
        return AnswerBook(bundle, referenced_names(_process_files(tree)), {}, start).defaults()


def _publish(database: ScratchDatabase, tree: DraftTree, category_code: str, jurisdiction_code: str,
             chain: list[str], start: datetime, own_category: bool):
    """Publish the draft in the scratch database as drafts.publish_draft would; returns its parsed
    bundle. A county's draft that does not (yet) differ from what it inherits is published where
    that is defined: the same definition, and publishing refuses a county version equal to its
    parent's. A category created in the designer is its level's own (no variant folder)."""
    variants = tree.registry.variants
    level = jurisdiction_code if own_category else next(
        code for index, code in enumerate(chain) if variants.defines(category_code, chain[index:]))
    with database.sessions() as scratch:
        publish(scratch, tree.registry, category_code, level, SIMULATION_USER, "模拟运行", "designer", now=start,
                own_category=own_category)
        scratch.commit()
    bundle = tree.registry.variants.resolve(category_code, chain).bundle()
    tree.registry.remember(bundle)  # the runtime finds the parsed specs instead of restoring them
    return bundle


def _process_files(tree: DraftTree) -> list[Path]:
    """The BPMN and DMN files the draft runs with: its own, its parents' and the library's."""
    return [path for path in tree.root.rglob("*") if path.suffix in (".bpmn", ".dmn")]


def _flow_map(elements: list[FlowElement]) -> dict[tuple[str, str], list[str]]:
    flows: dict[tuple[str, str], list[str]] = {}
    for element in elements:
        if element.type == "sequenceFlow" and element.source and element.target:
            flows.setdefault((element.source, element.target), []).append(element.element_id)
    return flows


def _place_name(session: Session, code: str) -> str:
    row = session.get(Jurisdiction, code) if code else None
    return row.name if row is not None else (code or "基础版本")
