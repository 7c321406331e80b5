"""Bring the database schema up to date with the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from assistant.store import locks

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision, read from the file names (`0005_runs.py` is revision 0005)
    so that a store already up to date opens without loading Alembic at all."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def migrate(engine: sa.Engine) -> None:
    """Apply every migration not yet applied; safe to call on each start, and from several replicas
    starting at once on PostgreSQL (one migrates while the others wait, then find nothing to do)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            lock = sa.text("SELECT pg_advisory_xact_lock(:ns, :key)")
            conn.execute(lock, {"ns": locks.MIGRATE[0], "key": locks.MIGRATE[1]})
        if current_revision(conn) == head_revision():
            return
        from alembic import command

        command.upgrade(alembic_config(conn), "head")
