"""Who is logged in: the session holds a user id; views get the engine Actor from it."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from engine.actors import Actor
from engine.models import User

from .extensions import db

SESSION_KEY = "user_id"


def current_user() -> User | None:
    """The logged-in user, loaded once per request; None if nobody is (or the user was deleted)."""
    if "current_user" not in g:
        user_id = session.get(SESSION_KEY)
        g.current_user = db.session.get(User, user_id) if user_id is not None else None
    return g.current_user


def current_actor() -> Actor:
    """The logged-in user as the engine sees them. Only call behind `login_required`."""
    user = current_user()
    if user is None:
        raise RuntimeError("current_actor() called without a logged-in user; add @login_required")
    return Actor(user.username, frozenset(user.roles or ()), user.jurisdiction_code,
                 user.display_name or user.username)


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
    session.permanent = True
    g.current_user = user


def log_out() -> None:
    session.clear()
    g.pop("current_user", None)
