"""筛选视图: named filters of the cockpit pages, saved by a manager or director and perhaps shared.

A view is a page and its query parameters, so opening one is a link. Sharing:
- private (仅自己): the owner only;
- team (本组): users holding the owner's role over the owner's jurisdiction — the same 政法委 or the
  same center's directors;
- jurisdiction (本辖区): everyone who reads that jurisdiction (its staff and the levels above).
A shared view is listed only to users who may read its scope and may open its page, so sharing never
shows anyone more than they could already see. Functions here flush; the caller commits.
"""
from __future__ import annotations

from datetime import datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor, code_covers
from .cockpit_metrics import FILTERS, default_scope
from .errors import EngineError, NotFound
from .models import SavedView

NAME_LIMIT = 40
SHARING = {"private": "仅自己", "team": "本组（同辖区同角色）", "jurisdiction": "本辖区"}
COCKPIT_ROLES = ("manager", "director")  # 政法委管理者, 中心主任: the roles that may save views
# Each page's query parameters, and the roles that may open it (None: anyone who reads cases).
PAGES: dict[str, tuple[frozenset[str], tuple[str, ...] | None]] = {
    "cockpit": (frozenset({"scope", "period", "from", "to"}), COCKPIT_ROLES),
    "performance": (frozenset({"scope", "period", "from", "to", "sort"}), COCKPIT_ROLES),
    "timers": (frozenset({"scope", "category", "role", "department", "department_id", "state", "sort"}),
               COCKPIT_ROLES),
    "cases": (frozenset({"metric", "period", "scope", "status", "repeat", *FILTERS}), None),
}
PAGE_NAMES = {"cockpit": "驾驶舱", "performance": "考核", "timers": "节点计时", "cases": "案件列表"}
PARAM_LIMIT = 200  # characters of one parameter value


class ViewError(EngineError):
    """A view that cannot be saved; `field` names the input, the message says what to change."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def save_view(session: Session, actor: Actor, name: str, shared_with: str, page: str,
              params: Mapping[str, str], now: datetime) -> SavedView:
    """Save `params` of `page` as a view named `name`, owned by `actor`; ViewError if anything is wrong.

    The view's scope is its `scope` parameter (the actor's widest jurisdiction when absent, written
    into the parameters so the link shows the same thing to everyone it is shared with).
    """
    name = (name or "").strip()
    if not 1 <= len(name) <= NAME_LIMIT:
        raise ViewError("name", f"视图名称应为 1–{NAME_LIMIT} 个字符")
    if shared_with not in SHARING:
        raise ViewError("shared_with", f"共享范围“{shared_with}”无效，可选：{'、'.join(SHARING.values())}")
    if page not in PAGES:
        raise ViewError("page", f"页面“{page}”无效，可选：{'、'.join(PAGE_NAMES[p] for p in PAGES)}")
    role = _saving_role(actor)
    known, _ = PAGES[page]
    cleaned = {str(key): str(value) for key, value in params.items() if str(value).strip()}
    unknown = sorted(set(cleaned) - known)
    if unknown:
        raise ViewError("params", f"{PAGE_NAMES[page]}不接受参数 {'、'.join(unknown)}")
    too_long = sorted(key for key, value in cleaned.items() if len(value) > PARAM_LIMIT)
    if too_long:
        raise ViewError("params", f"参数 {'、'.join(too_long)} 超过 {PARAM_LIMIT} 个字符")
    scope = cleaned.setdefault("scope", default_scope(actor))
    if not scope or not actor.covers(scope):
        raise ViewError("params", f"统计范围“{scope}”不在您的管辖范围内")
    view = SavedView(name=name, owner=actor.username, shared_with=shared_with,
                     jurisdiction_code=_team_jurisdiction(actor, role, scope), role=role, page=page,
                     params=cleaned, created_at=now)
    session.add(view)
    session.flush()
    return view


def visible_views(session: Session, actor: Actor, page: str | None = None) -> list[SavedView]:
    """The actor's own views and the views shared with them that they may open, newest first."""
    query = select(SavedView).order_by(SavedView.created_at.desc(), SavedView.id.desc())
    if page is not None:
        query = query.where(SavedView.page == page)
    return [view for view in session.scalars(query) if may_see(actor, view)]


def may_see(actor: Actor, view: SavedView) -> bool:
    """True if the view is the actor's, or shared with them and inside what they read and may open."""
    if view.owner == actor.username:
        return True
    if view.shared_with == "private":
        return False
    roles = PAGES.get(view.page, (frozenset(), ()))[1]
    if roles is not None and not actor.roles & set(roles):
        return False
    if not actor.covers(view.params.get("scope", view.jurisdiction_code)):
        return False
    if view.shared_with == "team":
        return any(g.role == view.role and g.jurisdiction_code == view.jurisdiction_code for g in actor.grants)
    return actor.covers(view.jurisdiction_code)


def delete_view(session: Session, actor: Actor, view_id: int) -> None:
    """Delete the actor's own view; NotFound for another's view (it is not theirs to know about)."""
    view = session.get(SavedView, view_id)
    if view is None or view.owner != actor.username:
        raise NotFound(f"saved view {view_id} not found")
    session.delete(view)
    session.flush()


def _saving_role(actor: Actor) -> str:
    for role in COCKPIT_ROLES:
        if role in actor.roles:
            return role
    raise ViewError("role", "只有政法委管理者和中心主任可以保存筛选视图")


def _team_jurisdiction(actor: Actor, role: str, scope: str) -> str:
    """The jurisdiction of the owner's grant (in `role`) that covers the view's scope: the team."""
    codes = sorted((g.jurisdiction_code for g in actor.grants if g.role == role and code_covers(g.jurisdiction_code,
                                                                                             scope)), key=len)
    return codes[-1] if codes else scope
