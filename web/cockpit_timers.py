"""节点计时 (/cockpit/timers): every open task of a scope with its node, handler, elapsed time against its
limit, time left and warning state, filtered and sorted by due time; and from each row the 督办
actions, a 工作提示函 or a 督办函 to its handler. A thin layer over engine/cockpit_timers.py and
engine/supervision_letters.py.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from engine import jurisdictions
from engine.cockpit_timers import SORTS, STATES, UNCLAIMED, TimerFilter, TimerRow, node_timers
from engine.documents import DOCUMENT_TYPES
from engine.errors import ConflictError, Forbidden, NotFound
from engine.models import Department, HumanTask, User
from engine.supervision_letters import KINDS, NOTE_LIMIT, LetterError, send_letter
from engine.task_meta import ROLES, TASK_ROLES
from engine.time_left import clock_text, span_text

from .cockpit import COCKPIT_ROLES, Selection, cockpit_view, place_names, scope_options
from .errors import error_page
from .extensions import db
from .filters import local_time
from .services import services
from .session_user import current_actor, login_required

bp = Blueprint("cockpit_timers", __name__)

# The query parameters of the page (engine/saved_views.PAGES["timers"] accepts these, not `page`).
FILTER_PARAMS = ("scope", "category", "role", "department", "state", "sort")
STATE_CLASSES = {"normal": "ok", "near_due": "warn", "overdue": "late", "paused": "paused"}
LETTER_NAMES = {kind: DOCUMENT_TYPES[kind].title for kind in KINDS}
FIELD_NAMES = {"kind": "文书类型", "note": "督办意见"}
PAGE_PATH = "/cockpit/timers"


@bp.get(PAGE_PATH)
@cockpit_view
def index(selection: Selection):
    actor, now, scope, _ = selection
    filters = _filters(scope)
    if isinstance(filters, tuple):
        return filters
    result = node_timers(db.session, actor, filters, now)
    kept = {name: request.args[name] for name in FILTER_PARAMS if request.args.get(name)}
    registry = services().registry
    category_names = {code: category.name for code, category in registry.categories.items()}
    departments = _departments(scope)
    return render_template(
        "cockpit_timers.html", scope=scope, scope_name=place_names(db.session, [scope]).get(scope, scope),
        now=now, page=result, filters=filters, rows=_rows(result.rows, actor, now, category_names),
        pages=_pages(kept, result.page, result.pages), query=urlencode(kept),
        scopes=scope_options(actor, scope), categories=sorted(category_names.items(), key=lambda item: item[0]),
        task_roles=[(role, ROLES[role]) for role in TASK_ROLES], states=STATES, sorts=SORTS, departments=departments,
        state_classes=STATE_CLASSES, letter_names=LETTER_NAMES, note_limit=NOTE_LIMIT)


def _filters(scope: str):
    """The TimerFilter of this request, or a 400 page naming the parameter that cannot be read."""
    args = request.args
    state, sort = args.get("state") or None, args.get("sort") or "due"
    if state is not None and state not in STATES:
        return error_page(400, f"计时状态“{state}”无法识别：可选 {'、'.join(f'{v}（{k}）' for k, v in STATES.items())}。")
    if sort not in SORTS:
        return error_page(400, f"排序“{sort}”无法识别：可选 {'、'.join(f'{v}（{k}）' for k, v in SORTS.items())}。")
    department = args.get("department") or None
    if department is not None and not department.isdigit():
        return error_page(400, f"承办部门“{department}”无法识别：请从列表中选择部门。")
    page = args.get("page") or "1"
    if not page.isdigit() or int(page) < 1:
        return error_page(400, f"页码“{page}”无效：页码从 1 开始。")
    return TimerFilter(scope, category=args.get("category") or None, role=args.get("role") or None,
                       department_id=int(department) if department else None, state=state, sort=sort,
                       page=int(page))


def _rows(rows: list[TimerRow], actor, now, category_names: dict[str, str]) -> list[dict]:
    """The table's cells; names of handlers, places and departments in three small queries."""
    users = {row.claimed_by for row in rows if row.claimed_by}
    # .all(): a Result has keys(), which dict() would take for a mapping's.
    names = dict(db.session.execute(select(User.username, User.display_name).where(User.username.in_(users))).all()) \
        if users else {}
    places = place_names(db.session, {row.queue_jurisdiction for row in rows if row.queue_jurisdiction})
    department_ids = {row.queue_department_id for row in rows if row.queue_department_id is not None}
    departments = dict(db.session.execute(select(Department.id, Department.name).where(
        Department.id.in_(department_ids))).all()) if department_ids else {}
    paused = [row.task_id for row in rows if row.state == "paused"]
    paused_at = dict(db.session.execute(select(HumanTask.id, HumanTask.paused_at).where(
        HumanTask.id.in_(paused))).all()) if paused else {}
    return [{
        "task_id": row.task_id,
        "case_id": row.case_id,
        "case_code": row.case_code,
        "category": category_names.get(row.category_code, row.category_code or ""),
        "node": row.node_name,
        "element_id": row.element_id,
        "handler": names.get(row.claimed_by, row.claimed_by) if row.claimed_by else UNCLAIMED,
        "claimed": row.claimed_by is not None,
        "queue": " · ".join(part for part in (places.get(row.queue_jurisdiction, row.queue_jurisdiction),
                                              departments.get(row.queue_department_id),
                                              ROLES.get(row.role, row.role)) if part),
        "elapsed": span_text(row.elapsed),
        "deadline": row.deadline or "无时限",
        "due": local_time(row.due_at) or "—",
        "time_left": clock_text(row.due_at, paused_at.get(row.task_id), now),
        "late": row.time_left is not None and row.time_left.total_seconds() < 0 and row.state != "paused",
        "state": row.state,
        "state_label": row.state_label,
        # The engine decides; the form is offered where it would be accepted (a queue the user supervises).
        "may_send": not row.queue_jurisdiction or actor.supervises(row.queue_jurisdiction),
    } for row in rows]


def _departments(scope: str) -> list[tuple[int, str]]:
    """Departments stationed at the scope's center and the places one level below, for the filter."""
    places = {scope: None, **{place.code: place.name for place in jurisdictions.children(db.session, scope)}}
    rows = db.session.execute(select(Department.id, Department.name, Department.jurisdiction_code)
                              .where(Department.jurisdiction_code.in_(places))
                              .order_by(Department.jurisdiction_code, Department.name))
    return [(id_, f"{places[code]} · {name}" if places[code] else name) for id_, name, code in rows]


def _pages(kept: dict[str, str], page: int, pages: int) -> dict:
    def url(number: int) -> str:
        return url_for("cockpit_timers.index", **kept, **({"page": number} if number > 1 else {}))

    return {"current": page, "count": pages, "previous": url(page - 1) if page > 1 else None,
            "next": url(page + 1) if page < pages else None,
            "numbers": [(number, url(number)) for number in _window(page, pages)]}


def _window(page: int, pages: int) -> list[int]:
    """The first and last page and the pages around the current one."""
    return sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})


@bp.post(PAGE_PATH + "/<task_id>/letter")
@login_required
def letter(task_id: str):
    actor = current_actor()
    if not actor.roles & COCKPIT_ROLES:
        abort(403)
    kind = request.form.get("kind", "")
    try:
        document = send_letter(db.session, services().runtime, actor, task_id, kind, request.form.get("note"),
                               services().clock.now())
    except NotFound:
        db.session.rollback()
        abort(404)
    except Forbidden:
        db.session.rollback()
        abort(403)
    except ConflictError:
        db.session.rollback()
        flash(f"未出具{LETTER_NAMES.get(kind, '文书')}：该任务已办结或已撤回，请刷新列表。", "error")
        return redirect(_back(), 303)
    except LetterError as exc:
        db.session.rollback()
        task = db.session.get(HumanTask, task_id)
        where = f"（“{task.name}”环节）" if task is not None else ""
        flash(f"未出具{LETTER_NAMES.get(kind, '文书')}{where}：{FIELD_NAMES.get(exc.field, exc.field)}——{exc.message}",
              "error")
        return redirect(_back(), 303)
    db.session.commit()
    flash(f"已出具{document.title}，文号 {document.number}。", "success")
    return redirect(_back(), 303)


def _back() -> str:
    """The filtered list the form was sent from; anything else goes to the unfiltered list."""
    target = request.form.get("next", "")
    if target.startswith(PAGE_PATH) and not target.startswith("//"):
        return target
    return url_for("cockpit_timers.index")
