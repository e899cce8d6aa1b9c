"""Who is logged in: the session holds a user id; views get the engine Actor from it."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for

from engine.actors import Actor
from engine.people import actor_for
from engine.models import User

from .extensions import db
from .services import services

SESSION_KEY = "user_id"
SEEN_KEY = "seen"  # last request, for the idle timeout


def current_user() -> User | None:
    """The logged-in user, loaded once per request; None if nobody is, the user was deleted or
    disabled, or the session sat idle longer than IDLE_TIMEOUT_SECONDS."""
    if "current_user" not in g:
        g.current_user = _session_user()
    return g.current_user


def _session_user() -> User | None:
    user_id = session.get(SESSION_KEY)
    if user_id is None:
        return None
    now = services().clock.now().timestamp()
    idle_limit = current_app.config.get("IDLE_TIMEOUT_SECONDS", 30 * 60)
    if now - session.get(SEEN_KEY, now) > idle_limit:
        session.clear()
        return None
    session[SEEN_KEY] = now
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def current_actor() -> Actor:
    """The logged-in user as the engine sees them. Only call behind `login_required`."""
    user = current_user()
    if user is None:
        raise RuntimeError("current_actor() called without a logged-in user; add @login_required")
    if "current_actor" not in g:
        g.current_actor = actor_for(db.session, user, services().clock.now())
    return g.current_actor


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            session.pop(SESSION_KEY, None)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def role_required(role: str):
    """Logged in and holding `role`, else 403: the page exists but is not theirs."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if role not in current_actor().roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def log_in(user: User) -> None:
    # A fresh session on login, so an id planted before login (session fixation) is dropped.
    session.clear()
    session[SESSION_KEY] = user.id
    session[SEEN_KEY] = services().clock.now().timestamp()
    session.permanent = True
    g.current_user = user
    g.pop("current_actor", None)


def log_out() -> None:
    session.clear()
    g.pop("current_user", None)
    g.pop("current_actor", None)
