"""流程热力图 (/cockpit/heatmap): a category's BPMN diagram as in force at the scope, each user task with
the cases waiting there now and the median and 90th-percentile hours its tasks completed in the period
took, coloured by one of those (web/heat_scale.py). The same numbers stand in a table under the
diagram, so the page reads without JavaScript; each waiting count opens the node timers of the
category. A thin layer over engine/cockpit_heatmap.py.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, render_template, request

from engine.cockpit_heatmap import NodeHeat, heatmap
from engine.errors import NoVersion
from engine.variant_lookup import ancestors
from engine.versions import in_force, label

from . import heat_scale
from .cockpit import PERIOD_KINDS, Selection, cockpit_view, period_choices, place_names, scope_options
from .errors import error_page
from .extensions import db
from .process_diagram import version_diagram, viewer_ready
from .services import services

bp = Blueprint("cockpit_heatmap", __name__)

TIMERS_PATH = "/cockpit/timers"  # the node-timer list (its own blueprint); linked by path, not imported


@bp.get("/cockpit/heatmap")
@cockpit_view
def index(selection: Selection):
    actor, now, scope, period = selection
    registry = services().registry
    chain = ancestors(db.session, scope)
    categories = sorted((c for c in registry.categories.values() if c.offered_at(chain)), key=lambda c: c.code)
    code = request.args.get("category") or (categories[0].code if categories else "")
    category = next((c for c in categories if c.code == code), None)
    if category is None:
        return error_page(404, f"纠纷类别“{code}”不存在或不在统计范围“{scope}”内受理，请从类别列表中选择。")
    measure = request.args.get("heat") or heat_scale.DEFAULT_MEASURE
    if measure not in heat_scale.MEASURES:
        return error_page(400, f"着色依据“{measure}”无法识别：可选 p90（P90 办理时长）或 waiting（等待件数）。")

    try:
        version = in_force(db.session, category.code, scope)
    except NoVersion:
        version = None
    diagram = version_diagram(version, category.process_id) if version is not None else None
    heat = heatmap(db.session, actor, category.code, scope, period, now)
    rows = node_rows(diagram.user_tasks if diagram else {}, heat, _task_names(category), category.code, scope)
    top = max((_measured(row, measure) for row in rows), default=0.0)
    for row in rows:
        row["level"] = heat_scale.level_of(_measured(row, measure), top)
    return render_template(
        "cockpit_heatmap.html", period=period, scope=scope, now=now,
        scope_name=place_names(db.session, [scope]).get(scope, scope),
        categories=[(c.code, c.name) for c in categories], category=category, measure=measure,
        measures=heat_scale.MEASURES, legend=heat_scale.legend(measure, top), level_names=heat_scale.LEVEL_NAMES,
        version=version, version_level=label(db.session, registry, version.jurisdiction_code) if version else "",
        diagram=diagram, rows=rows, viewer_ready=viewer_ready(),
        overlay={"nodes": [row for row in rows if row["on_diagram"]], "measure": measure},
        scopes=scope_options(actor, scope), period_choices=period_choices(now), period_kinds=PERIOD_KINDS)


def node_rows(diagram_tasks: dict[str, str], heat: dict[str, NodeHeat], names: dict[str, str],
              category: str, scope: str) -> list[dict]:
    """One row per user task of the diagram (in its order, measured or not), then the measured nodes the
    diagram lacks (a called sub-process's tasks, or tasks of cases still on an older version)."""
    timers_href = f"{TIMERS_PATH}?{urlencode({'category': category, 'scope': scope})}"
    ids = list(diagram_tasks) + sorted(set(heat) - set(diagram_tasks))
    rows = []
    for element_id in ids:
        node = heat.get(element_id) or NodeHeat(element_id, 0, 0, None, None)
        median, p90 = _hours(node.median_hours), _hours(node.p90_hours)
        rows.append({
            "id": element_id, "name": diagram_tasks.get(element_id) or names.get(element_id) or element_id,
            "on_diagram": element_id in diagram_tasks, "waiting": node.waiting, "completed": node.completed,
            "median_hours": node.median_hours, "p90_hours": node.p90_hours, "median": median, "p90": p90,
            "badge": f"等待 {node.waiting} · 中位 {_with_unit(median)} · P90 {_with_unit(p90)}",
            "timers_href": timers_href,
        })
    return rows


def _task_names(category) -> dict[str, str]:
    """Names of the tasks the category's current definition knows, for nodes not on the diagram."""
    return {element_id: meta.name for element_id, meta in category.bundle.tasks.items() if meta.name}


def _measured(row: dict, measure: str) -> float:
    value = row["p90_hours"] if measure == "p90" else row["waiting"]
    return float(value or 0)


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _with_unit(text: str) -> str:
    return text if text == "—" else f"{text} 小时"
