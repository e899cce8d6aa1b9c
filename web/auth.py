"""Logging in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine.accounts import AccountLocked, LoginFailed, PasswordAuthenticator, hash_password  # noqa: F401

from .extensions import db
from .services import services
from .session_user import current_user, log_in, log_out

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "用户名或密码错误"


def authenticator():
    """The configured authentication (AUTHENTICATOR in the app config; passwords by default)."""
    return current_app.config.get("AUTHENTICATOR") or PasswordAuthenticator()


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url)
        return render_template("login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    try:
        user = authenticator().authenticate(db.session, username, password, services().clock.now())
    except LoginFailed:
        return render_template("login.html", next_url=next_url, username=username, error=LOGIN_FAILED)
    except AccountLocked as locked:
        minutes = max(1, int((locked.until - services().clock.now()).total_seconds() // 60) + 1)
        message = f"连续输错密码次数过多，账户已临时锁定，请 {minutes} 分钟后再试"
        return render_template("login.html", next_url=next_url, username=username, error=message), 429
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
