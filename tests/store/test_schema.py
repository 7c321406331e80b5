"""The migrations build exactly the schema the models describe, on a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from assistant.store import Store
from assistant.store.tables import Chat


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")

    def diff(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    with store.engine.connect() as conn:
        assert diff(conn) == []
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    await store.close()


async def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    await (await Store.open(url)).close()
    await (await Store.open(url)).close()


async def test_instants_come_back_aware_and_in_utc(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    local = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    await store.write(lambda s: s.add(Chat(channel="api", address="api:x", created_at=local)))
    chat = await store.read(lambda s: s.get(Chat, 1))
    await store.close()
    assert chat is not None
    assert chat.created_at == local
    assert chat.created_at.utcoffset() == timedelta(0)


async def test_naive_instants_are_refused(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    with pytest.raises(sa.exc.StatementError, match="naive"):
        await store.write(lambda s: s.add(Chat(channel="api", address="x", created_at=datetime(2026, 1, 1))))
    await store.close()
