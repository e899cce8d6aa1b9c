"""The configured database (FENGQIAO_DATABASE_URL) for command-line tools, without starting the web app."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def configured_sessions() -> Iterator[sessionmaker]:
    """A session factory on the configured database, tables created if missing; the engine is closed after."""
    from engine.db import create_schema, make_engine, make_session_factory
    from web import default_config

    url = default_config()["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        create_schema(engine)
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def configured_database() -> Iterator[Session]:
    """One session on the configured database, for commands that need no more than that."""
    with configured_sessions() as sessions, sessions() as session:
        yield session
