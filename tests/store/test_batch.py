"""Group commit: concurrent accepts share transactions and keep inbox.accept's promises."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from assistant.store import Store
from assistant.store.batch import AcceptBatcher
from assistant.store.tables import Chat, Message
from assistant.types import Address, Inbound, MessageKind

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def message(provider_id: str, sender: str = "+1555", kind: MessageKind = "text") -> Inbound:
    return Inbound(
        "whatsapp", provider_id, Address("whatsapp", sender), provider_id, NOW - timedelta(minutes=1), kind
    )


async def test_concurrent_accepts_store_each_message_once(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    batcher = AcceptBatcher(lambda: store)
    batches = [[message(f"m{n}", f"+1555{n % 3}")] for n in range(30)]
    batches.append([message("m1", "+15551"), message("m1", "+15551"), message("late", "+1555")])
    results = await asyncio.gather(*(batcher.accept(b, NOW) for b in batches))
    assert all(r.new for r in [res[0] for res in results[:30]])
    dup_first, dup_second, late = results[-1]
    assert (dup_first.new, dup_second.new, late.new) == (False, False, True)
    assert dup_first.message_id == results[1][0].message_id
    messages = await store.read(lambda s: list(s.exec(select(Message).order_by(col(Message.id)))))
    chats = await store.read(lambda s: list(s.exec(select(Chat))))
    await store.close()
    assert len(messages) == 31
    assert {c.address for c in chats} == {
        "whatsapp:+15550",
        "whatsapp:+15551",
        "whatsapp:+15552",
        "whatsapp:+1555",
    }
    assert all(c.last_inbound_at == NOW - timedelta(minutes=1) for c in chats)
    assert messages[0].created_at == NOW
    assert messages[0].status == "accepted"


async def test_a_job_does_not_open_the_window(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    [accepted] = await AcceptBatcher(lambda: store).accept([message("j1", kind="job")], NOW)
    chat = await store.read(lambda s: s.get(Chat, accepted.chat_id))
    await store.close()
    assert chat is not None
    assert chat.last_inbound_at is None
