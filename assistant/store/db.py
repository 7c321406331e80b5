"""The database engine: SQLite in WAL mode with a busy timeout, or any URL SQLAlchemy knows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

BUSY_TIMEOUT_MS = 5000
# Drivers Hearth used to name for asyncio; the store runs sync drivers in worker threads.
_SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql+psycopg"}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def sync_url(url: str) -> sa.URL:
    parsed = sa.make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def create_engine(url: str) -> sa.Engine:
    """An engine for `url`; for SQLite the file's directory is created and the pragmas set."""
    parsed = sync_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, pool_size=4, max_overflow=4)
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine
