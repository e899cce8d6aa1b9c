"""Logging in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from engine.models import User

from .extensions import db
from .session_user import current_user, log_in, log_out

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "用户名或密码错误"
# Checked when the user does not exist, so an unknown name costs as long as a wrong password and
# response times do not reveal which user names exist.
_DUMMY_HASH = generate_password_hash("fengqiao-no-such-user")


def hash_password(plain: str) -> str:
    """The stored form of a password (for seeding users)."""
    return generate_password_hash(plain)


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url)
        return render_template("login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    user = db.session.scalars(select(User).where(User.username == username)).one_or_none()
    password_ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not password_ok:
        return render_template("login.html", next_url=next_url, username=username, error=LOGIN_FAILED)
    log_in(user)
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
def logout():
    log_out()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot send a user elsewhere after login."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for("tasks.inbox")


@bp.app_context_processor
def inject_user():
    return {"current_user": current_user()}
