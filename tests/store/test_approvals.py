"""The approval table's transitions: once, and never out of a request whose time has run out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from assistant.store import Store, approvals
from assistant.store.inbox import chat_for
from assistant.store.tables import Approval, Reply

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def stored(store: Store, call_key: str, expires_at: datetime) -> tuple[Approval, bool]:
    chat = await store.write(lambda s: chat_for(s, "api", "api:ann", NOW))
    row = Approval(
        code="ABC234", chat_id=chat.id or 0, call_key=call_key, tool="remember", expires_at=expires_at
    )
    return await approvals.request(store, row, Reply(chat_id=chat.id or 0, text="asking"))


async def test_an_answer_moves_a_request_once_and_only_in_time(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    live, _ = await stored(store, "m1:0", NOW + timedelta(minutes=10))
    late, _ = await stored(store, "m2:0", NOW - timedelta(seconds=1))
    assert live.id is not None
    assert late.id is not None
    first = await approvals.decide(store, live.id, "pending", "approved", NOW, "api:ann")
    second = await approvals.decide(store, live.id, "pending", "denied", NOW, "api:ann")
    expired = await approvals.decide(store, late.id, "pending", "approved", NOW, "api:ann")
    assert first is not None
    assert first.status == "approved"
    assert second is None
    assert expired is None
    await store.close()


async def test_a_replayed_request_is_stored_and_asked_once(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    first, new = await stored(store, "m1:0", NOW)
    again, new_again = await stored(store, "m1:0", NOW)
    prompts = len(await store.read(lambda s: list(s.exec(select(Reply)))))
    assert (new, new_again, again.id, prompts) == (True, False, first.id, 1)
    await store.close()
