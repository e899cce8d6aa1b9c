"""The demo data a new user sees: real cases in the past, users who can log in."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from engine.models import Case, CaseEvent, HumanTask, User
from fengqiao.demo import DEMO_USERS, seed_demo
from web import create_app
from web.extensions import db


def test_demo_seeding_creates_users_and_cases_whose_history_lies_in_the_past(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite'}", "SECRET_KEY": "t"})
    with app.app_context():
        summary = seed_demo(db.session, app.extensions["fengqiao"])
        now = datetime.now(timezone.utc)
        assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
        statuses = set(db.session.scalars(select(Case.status)))
        assert statuses == {"open", "concluded", "terminated"}
        assert db.session.scalar(select(func.max(CaseEvent.at))) <= now
        assert db.session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.state == "ready", HumanTask.overdue_at.is_not(None))) > 0
        assert "cases" in summary
        assert seed_demo(db.session, app.extensions["fengqiao"]).startswith("demo data already present")
