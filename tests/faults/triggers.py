"""Faults in a real SQLite file: a trigger that makes one kind of write fail, the way a full disk or
a crash at that statement would, while every other write goes through."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

TRIGGER = "hearth_test_fault"
# What each fault refuses: storing a message, storing a reply, marking a message handled.
WRITES = {
    "message": "BEFORE INSERT ON message",
    "reply": "BEFORE INSERT ON reply",
    "handled": "BEFORE UPDATE OF status ON message WHEN NEW.status = 'handled'",
}


def _execute(db: Path, sql: str) -> None:
    # Autocommit: the schema change is visible to the server's connections at their next statement.
    with closing(sqlite3.connect(db, isolation_level=None, timeout=10)) as conn:
        conn.execute(sql)


def refuse(db: Path, write: str) -> None:
    """From now on the database refuses `write` (a key of WRITES) with an error."""
    _execute(db, f"CREATE TRIGGER {TRIGGER} {WRITES[write]} BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")


def allow(db: Path) -> None:
    """The fault is gone."""
    _execute(db, f"DROP TRIGGER IF EXISTS {TRIGGER}")


@contextmanager
def refusing(db: Path, write: str) -> Iterator[None]:
    refuse(db, write)
    try:
        yield
    finally:
        allow(db)
