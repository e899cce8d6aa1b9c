"""考核 (/cockpit/performance): departments and mediators of a scope in a period, each case number
linked to its case list; and 筛选视图 (saved views): save the current page's filters, delete your own.
A thin layer over engine/cockpit_performance.py and engine/saved_views.py.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from engine.cockpit_metrics import QueryError
from engine.cockpit_performance import COLUMNS, DEFAULT_SORT, PerformanceRow, performance
from engine.errors import NotFound
from engine.models import SavedView
from engine.saved_views import PAGE_NAMES, SHARING, ViewError, delete_view, save_view, visible_views

from .cockpit import PERIOD_KINDS, Selection, cockpit_view, period_choices, place_names, scope_options
from .cockpit_cells import case_list_url, format_count, format_rate
from .cockpit_drill import DIMENSION_NAMES
from .errors import error_page
from .extensions import db
from .services import services
from .session_user import current_actor, current_user, login_required

bp = Blueprint("cockpit_performance", __name__)

COCKPIT_ROLES = frozenset({"manager", "director"})  # 政法委管理者, 中心主任
# Where each page of a saved view lives; a page not (yet) served is not listed.
PAGE_PATHS = {"cockpit": "/cockpit", "performance": "/cockpit/performance", "timers": "/cockpit/timers",
              "cases": "/cases"}
FIELD_NAMES = {"name": "视图名称", "shared_with": "共享范围", "page": "页面", "params": "筛选条件", "role": "角色"}
# The columns of both tables: (column key for ?sort=, value attribute, "count" or "rate" or "hours").
TABLE_COLUMNS = [("received", "received", "count"), ("resolved", "resolved", "count"),
                 ("resolution_rate", "resolution_rate", "rate"), ("overdue_rate", "overdue_rate", "rate"),
                 ("median_hours", "median_hours", "hours"), ("satisfaction_rate", "satisfaction_rate", "rate"),
                 ("second_supervision", "second_supervision", "count")]
# A rate links to its numerator's list, as on the board.
RATE_LINKS = {"resolution_rate": "resolved", "satisfaction_rate": "satisfied"}


def _require_cockpit_role():
    actor = current_actor()
    if not actor.roles & COCKPIT_ROLES:
        abort(403)
    return actor


@bp.get("/cockpit/performance")
@cockpit_view
def index(selection: Selection):
    actor, now, scope, period = selection
    sort = request.args.get("sort") or DEFAULT_SORT
    try:
        result = performance(db.session, actor, scope, period, now, sort)
    except QueryError:
        return error_page(400, f"排序“{sort}”无法识别：可选 {'、'.join(COLUMNS)}（前加 - 为降序）。")
    base = {"scope": scope, "period": period.key}
    return render_template(
        "cockpit_performance.html", period=period, scope=scope, now=now,
        scope_name=place_names(db.session, [scope]).get(scope, scope),
        headers=_headers(base, sort), departments=[_cells(row) for row in result.departments],
        mediators=[_cells(row) for row in result.mediators],
        scopes=scope_options(actor, scope), period_choices=period_choices(now), period_kinds=PERIOD_KINDS)


def _headers(base: dict[str, str], sort: str) -> list[dict]:
    """Each column's name and the URL sorting by it (descending first; again: ascending)."""
    current = sort.lstrip("-")
    headers = []
    for key, _, _ in [("label", "label", "")] + TABLE_COLUMNS:
        descending = f"-{key}"
        target = key if sort == descending else descending
        headers.append({"key": key, "name": COLUMNS[key], "href": url_for("cockpit_performance.index", **base,
                                                                           sort=target),
                        "order": ("descending" if sort.startswith("-") else "ascending") if key == current else None})
    return headers


def _cells(row: PerformanceRow) -> dict:
    cells = []
    for key, attribute, kind in TABLE_COLUMNS:
        value = getattr(row, attribute)
        query = row.queries.get(RATE_LINKS.get(key, key))
        if kind == "count":
            text = format_count(value)
        elif kind == "rate":
            text = format_rate(value)
        else:
            text = "—" if value is None else f"{value:.1f}"
        href = case_list_url(query) if query is not None and kind != "hours" and _listable(query) else None
        # A rate's link opens its numerator's cases, so the count that list must show is the numerator.
        count = value if kind == "count" else getattr(row, RATE_LINKS[key]) if key in RATE_LINKS else None
        cells.append({"key": key, "text": text, "href": href, "count": count})
    return {"key": row.key, "label": row.label, "cells": cells}


def _listable(query) -> bool:
    """Whether the case list can show this query (it names every filter in its banner)."""
    return all(dimension in DIMENSION_NAMES for dimension in query.filters)


# -- saved views ------------------------------------------------------------------------------------

@bp.post("/cockpit/views")
@login_required
def save():
    actor = _require_cockpit_role()
    form = request.form
    params = dict(parse_qsl(form.get("query", ""), keep_blank_values=False))
    try:
        view = save_view(db.session, actor, form.get("name", ""), form.get("shared_with", "private"),
                         form.get("page", ""), params, services().clock.now())
    except ViewError as exc:
        db.session.rollback()
        return error_page(400, f"筛选视图未保存：{FIELD_NAMES.get(exc.field, exc.field)}——{exc}")
    db.session.commit()
    flash(f"已保存筛选视图“{view.name}”（{SHARING[view.shared_with]}）。", "success")
    return redirect(view_url(view))


@bp.post("/cockpit/views/<int:view_id>/delete")
@login_required
def delete(view_id: int):
    actor = current_actor()
    try:
        delete_view(db.session, actor, view_id)
    except NotFound:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash("已删除筛选视图。", "success")
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else
                    url_for("cockpit_performance.index"))


def view_url(view: SavedView) -> str:
    return PAGE_PATHS[view.page] + ("?" + urlencode(view.params) if view.params else "")


def _served(path: str) -> bool:
    return any(rule.rule == path for rule in current_app.url_map.iter_rules())


@bp.app_context_processor
def saved_view_helpers():
    """`saved_views_of(page)` for templates/_saved_views.html: the views the user may open there."""

    def saved_views_of(page: str | None = None) -> list[dict]:
        if current_user() is None:
            return []
        actor = current_actor()
        return [{"id": view.id, "name": view.name, "href": view_url(view), "page": PAGE_NAMES.get(view.page, view.page),
                 "sharing": SHARING.get(view.shared_with, view.shared_with), "mine": view.owner == actor.username}
                for view in visible_views(db.session, actor, page) if _served(PAGE_PATHS.get(view.page, ""))]

    return {"saved_views_of": saved_views_of, "saved_view_sharing": SHARING}
