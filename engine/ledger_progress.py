"""How far a running 台账 import has got, readable while its transaction is still open.

The import registers every case in one transaction, so its own session cannot tell anyone how far
it is. Two places carry the count instead:

- a `ProgressBoard` in memory, shared by the threads of one process (the web app keeps one): always
  up to date, and the only live source on SQLite;
- the `LedgerImport` row, written every few rows through a second session of its own. That works on
  PostgreSQL, where the row was committed before the import began and the import's transaction never
  touches it until its final update. On SQLite the import holds the database's only write lock, so a
  second writer would wait for the import that is waiting for it; there the row is written only
  before the import (total) and together with its commit (final state), and a reader in another
  process sees 0 until the end.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

from .models import LedgerImport

PERSIST_EVERY = 25  # rows between writes of the LedgerImport row


@dataclass(frozen=True)
class Progress:
    state: str  # validating / importing (the running states of LedgerImport)
    done: int
    total: int


class ProgressBoard:
    """Live progress of the imports running in this process, by LedgerImport id. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[int, Progress] = {}

    def set(self, import_id: int, state: str, done: int = 0, total: int = 0) -> None:
        with self._lock:
            self._entries[import_id] = Progress(state, done, total)

    def get(self, import_id: int) -> Progress | None:
        with self._lock:
            return self._entries.get(import_id)

    def clear(self, import_id: int) -> None:
        """Forget a finished import: from now on its LedgerImport row says how it ended."""
        with self._lock:
            self._entries.pop(import_id, None)


def writes_beside_open_transaction(sessions: sessionmaker) -> bool:
    """Can a second session commit while another one holds an open write transaction? Not on SQLite."""
    with sessions() as session:
        return session.get_bind().dialect.name != "sqlite"


class ProgressTracker:
    """The `progress(done, total)` callback of one import: the board, an optional listener (the
    CLI's progress bar) and, where the database allows it, the LedgerImport row every `every` rows."""

    def __init__(self, sessions: sessionmaker, import_id: int, board: ProgressBoard | None = None,
                 listener: Callable[[int, int], None] | None = None, every: int = PERSIST_EVERY):
        self.sessions, self.import_id, self.board, self.listener = sessions, import_id, board, listener
        self.every = max(1, every)
        self.persist = writes_beside_open_transaction(sessions)

    def __call__(self, done: int, total: int) -> None:
        if self.board is not None:
            self.board.set(self.import_id, "importing", done, total)
        if self.persist and (done % self.every == 0 or done == total):
            with self.sessions() as session:
                session.execute(update(LedgerImport).where(LedgerImport.id == self.import_id).values(done=done))
                session.commit()
        if self.listener is not None:
            self.listener(done, total)
