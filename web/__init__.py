"""Fengqiao's web UI (Simplified Chinese) and JSON API: a thin Flask layer over `engine`."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from engine.assignment import Assignments
from engine.clock import SystemClock
from engine.db import sqlite_pragmas
from engine.documents import DocumentRenderer
from engine.forms import FormLibrary
from engine.registry import ProcessRegistry
from engine.runtime import CaseRuntime
from engine.script_limits import ScriptLimits

from .extensions import csrf, db, limiter
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
        # Where citizens open the public status page (the QR code on the 受理告知单). Unset: the address
        # of the request issuing the notice; set it when staff work on an internal address.
        "PUBLIC_BASE_URL": os.environ.get("FENGQIAO_PUBLIC_URL"),
        # Rate-limit counters (Flask-Limiter). memory:// serves one process; several processes or
        # servers need a shared storage such as redis://host:6379 or memcached://host:11211.
        "RATELIMIT_STORAGE_URI": os.environ.get("FENGQIAO_RATELIMIT_STORAGE_URI", "memory://"),
        "STATUS_LOOKUP_LIMITS": "10 per minute;50 per hour",  # lookups per client IP (POST /status)
        "STATUS_CODE_FAILURE_LIMIT": "5 per 15 minutes",  # failed lookups of one case code, then it is locked
        "STATUS_SESSION_SECONDS": 30 * 60,  # a verified lookup is remembered this long
        # Attachment files (grid workers' photos) live on disk, not in the database; back this folder
        # up with it. A request may carry 9 photos of up to 10 MB each plus the form.
        "ATTACHMENTS_DIR": os.environ.get("FENGQIAO_ATTACHMENTS_DIR", str(PROJECT_ROOT / "instance" / "attachments")),
        "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
        # Seconds one process script, condition, timer expression or DMN cell may run (docs/process-authoring.md).
        "SCRIPT_TIME_LIMIT": float(os.environ.get("FENGQIAO_SCRIPT_TIME_LIMIT", "1")),
        "MAX_CONTENT_LENGTH": 100 * 1024 * 1024,
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
    limiter.init_app(app)

    registry = ProcessRegistry(Path(app.config["PROCESSES_DIR"]), FormLibrary(Path(app.config["FORMS_DIR"])))
    clock = app.config["CLOCK"]
    from .public_status import public_base_url
    renderer = DocumentRenderer(variant_dirs=lambda chain: registry.variants.documents_dirs(chain),
                                public_base_url=lambda: public_base_url(app))
    runtime = CaseRuntime(registry, clock, renderer=renderer,
                          script_limits=ScriptLimits(time_limit=app.config["SCRIPT_TIME_LIMIT"]))
    app.extensions["fengqiao"] = Services(registry, runtime, clock, Assignments(clock))

    from . import admin, auth, cases, documents, tasks
    from . import clock as clock_views
    for module in (auth, cases, tasks, clock_views, admin, documents):
        app.register_blueprint(module.bp)
    from . import triage
    app.register_blueprint(triage.bp)
    from . import versions as version_views
    app.register_blueprint(version_views.bp)
    from . import designer
    app.register_blueprint(designer.bp)
    from . import designer_simulation
    app.register_blueprint(designer_simulation.bp)
    from . import designer_review
    app.register_blueprint(designer_review.bp)
    from . import designer_categories
    app.register_blueprint(designer_categories.bp)
    from . import designer_forms
    app.register_blueprint(designer_forms.bp)
    from . import duplicates as duplicate_views
    app.register_blueprint(duplicate_views.bp)
    from . import me, task_actions
    for module in (task_actions, me):
        app.register_blueprint(module.bp)
    from . import notices
    app.register_blueprint(notices.bp)
    from . import analysis_meetings as analysis_meeting_views
    app.register_blueprint(analysis_meeting_views.bp)
    from . import org_admin
    app.register_blueprint(org_admin.bp)
    from . import ledger_import_view
    app.register_blueprint(ledger_import_view.bp)
    from . import cockpit
    app.register_blueprint(cockpit.bp)
    from . import cockpit_performance
    app.register_blueprint(cockpit_performance.bp)
    from . import cockpit_timers
    app.register_blueprint(cockpit_timers.bp)
    from . import cockpit_heatmap
    app.register_blueprint(cockpit_heatmap.bp)
    from . import cockpit_reports
    app.register_blueprint(cockpit_reports.bp)
    from . import channels_admin
    app.register_blueprint(channels_admin.bp)
    from . import levels as level_views
    app.register_blueprint(level_views.bp)
    from . import public_status
    app.register_blueprint(public_status.bp)
    from . import api
    app.register_blueprint(api.bp)
    from . import attachments, grid
    attachments.register(app)
    app.register_blueprint(grid.bp)
    from . import dossier
    app.register_blueprint(dossier.bp)
    from .errors import register_api_fallback, register_error_handlers
    from .filters import register_filters
    register_filters(app)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    register_error_handlers(app)
    if not app.config.get("PROPAGATE_EXCEPTIONS") and not app.testing:
        register_api_fallback(app)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", sqlite_pragmas)
        db.create_all()
        from engine.versions import sync_at_startup
        sync_at_startup(db.session, registry, clock.now())  # what changed in processes/ becomes a new version
        from engine.designed_categories import attach
        attach(db.session, registry, runtime.codec)  # categories created in the designer
        from engine.case_rollup import rebuild_if_empty
        rebuild_if_empty(db.session)  # a database from before the cockpit's monthly rollup
        db.session.rollback()
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
