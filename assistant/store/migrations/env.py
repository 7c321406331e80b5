"""Alembic environment: runs on the connection Hearth hands it (see assistant.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from assistant.store import tables  # noqa: F401  (registers the tables)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hearth` or assistant.store.migrate, not the alembic CLI")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
