"""Rows written from column values (the hot path's inserts) get the same defaults as table models."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from assistant.store import Store
from assistant.store.rows import insert_values, new_row, row_values
from assistant.store.tables import Chat, Reply, Turn

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CHATS: sa.Table = Chat.__table__  # type: ignore[attr-defined]
REPLIES: sa.Table = Reply.__table__  # type: ignore[attr-defined]


def test_values_take_the_models_defaults_and_share_nothing_mutable() -> None:
    first = row_values(Reply, chat_id=1, text="hi", created_at=NOW)
    second = row_values(Reply, chat_id=1, text="ho", created_at=NOW)
    made = Reply(chat_id=1, text="hi", created_at=NOW)
    assert first == {c.name: getattr(made, c.name) for c in REPLIES.columns}
    first["meta"]["kind"] = "notice"
    assert second["meta"] == {}


def test_a_column_the_table_lacks_is_refused() -> None:
    with pytest.raises(TypeError, match="statuss"):
        row_values(Reply, chat_id=1, text="hi", created_at=NOW, statuss="sent")


async def test_a_row_written_from_values_reads_back_as_a_model(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")

    def write(session: Session) -> int:
        chat_id = insert_values(session, CHATS, row_values(Chat, channel="api", address="a", created_at=NOW))
        values = row_values(Reply, chat_id=chat_id, text="hi", created_at=NOW, meta={"via": "x"})
        return insert_values(session, REPLIES, values)

    reply_id = await store.write(write)
    reply = await store.read(lambda s: s.get(Reply, reply_id))
    await store.close()
    assert reply is not None
    assert (reply.text, reply.status, reply.attempts, reply.meta, reply.created_at) == (
        "hi",
        "pending",
        0,
        {"via": "x"},
        NOW,
    )


def test_a_default_made_by_a_factory_is_made_for_each_row() -> None:
    first = row_values(Turn, chat_id=1)
    time.sleep(0.002)
    second = new_row(Turn, chat_id=1)
    assert second.started_at > first["started_at"]
    assert second.id is None
    assert sa.inspect(second).transient
