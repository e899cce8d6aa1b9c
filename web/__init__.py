"""Fengqiao's web UI (Simplified Chinese) and JSON API: a thin Flask layer over `engine`."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from engine.assignment import Assignments
from engine.clock import SystemClock
from engine.db import sqlite_pragmas
from engine.forms import FormLibrary
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime

from .extensions import csrf, db
from .services import Services

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_config() -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": _normalise_url(os.environ.get(
            "FENGQIAO_DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'instance' / 'fengqiao.sqlite'}")),
        "PROCESSES_DIR": PROJECT_ROOT / "processes",
        "FORMS_DIR": PROJECT_ROOT / "forms",
        "SECRET_KEY": os.environ.get("FENGQIAO_SECRET_KEY"),
        "CLOCK": SystemClock(),
        "RUN_SCHEDULER": False,
        "SCHEDULER_INTERVAL_SECONDS": 15,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` overrides defaults (tests pass a database URL and a FakeClock)."""
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"))
    app.config.update(default_config())
    app.config.update(config or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    db.init_app(app)
    csrf.init_app(app)

    registry = ProcessRegistry(Path(app.config["PROCESSES_DIR"]), FormLibrary(Path(app.config["FORMS_DIR"])))
    clock = app.config["CLOCK"]
    app.extensions["fengqiao"] = Services(registry, CaseRuntime(registry, clock), clock,
                                                Assignments(clock))

    from . import admin, auth, cases, documents, tasks
    from . import clock as clock_views
    for module in (auth, cases, tasks, clock_views, admin, documents):
        app.register_blueprint(module.bp)
    from . import versions as version_views
    app.register_blueprint(version_views.bp)
    from . import me, task_actions
    for module in (task_actions, me):
        app.register_blueprint(module.bp)
    from . import org_admin
    app.register_blueprint(org_admin.bp)
    from . import levels as level_views
    app.register_blueprint(level_views.bp)
    from .errors import register_error_handlers
    from .filters import register_filters
    register_filters(app)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    register_error_handlers(app)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", sqlite_pragmas)
        db.create_all()
        from engine.versions import sync_at_startup
        sync_at_startup(db.session, registry, clock.now())  # what changed in processes/ becomes a new version
        if app.config["RUN_SCHEDULER"]:
            from engine.scheduler import start_background
            from sqlalchemy.orm import sessionmaker

            factory = sessionmaker(bind=db.engine, expire_on_commit=False)
            app.extensions["fengqiao_scheduler"] = start_background(
                factory, app.extensions["fengqiao"].runtime, app.config["SCHEDULER_INTERVAL_SECONDS"])
    return app


def _normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask SQLAlchemy for psycopg2.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _instance_secret(instance: Path) -> str:
    """A random secret kept in instance/ so sessions survive restarts without a committed key."""
    import secrets

    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
