"""Bring the database schema up to date with the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: sa.Engine) -> None:
    """Apply every migration not yet applied; safe to call on each start."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
