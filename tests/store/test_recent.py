"""The kept history: after every kind of write a turn can meet, reading past the marks gives what
reading the whole history gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from assistant.store import Store, inbox, views
from assistant.store.recent import Recent
from assistant.store.tables import Turn
from assistant.store.views import After, Entry
from assistant.types import Address, Inbound

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Chat:
    """One chat's writes through the inbox, at a clock that moves a second per write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.at = NOW
        self.count = 0
        self.chat_id = 0

    def tick(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at

    async def accept(self, text: str) -> int:
        self.count += 1
        inbound = Inbound("api", f"m{self.count}", Address("api", "owner"), text, self.tick())
        (accepted,) = await inbox.accept(self.store, [inbound], self.at)
        self.chat_id = accepted.chat_id
        return accepted.message_id

    async def answer(self, message_ids: list[int], *replies: str, status: str = "handled") -> None:
        at = self.tick()
        turn = Turn(chat_id=self.chat_id, started_at=at, finished_at=at)
        await inbox.finish_turn(self.store, turn, message_ids, list(replies), status)


async def both(
    store: Store, recent: Recent, chat_id: int, after: After, limit: int
) -> tuple[list[Entry], list[Entry]]:
    def read(session: Session) -> tuple[list[Entry], list[Entry]]:
        whole = views.in_order(*views.sides(session, chat_id, after, limit))
        return recent.entries(session, chat_id, after, limit), whole

    return await store.read(read)


async def test_reading_past_the_marks_gives_the_whole_read(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    chat, recent = Chat(store), Recent()
    seen: list[list[Entry]] = []

    async def check(after: After | None = None, limit: int = 4) -> None:
        kept, whole = await both(store, recent, chat.chat_id, after or After(), limit)
        assert kept == whole
        seen.append(kept)

    first = await chat.accept("one")
    await check()
    await chat.answer([first], "reply one")
    await check()
    # Two messages wait while a third is answered first (a deferred batch, then a new one).
    waiting = [await chat.accept("two"), await chat.accept("three")]
    await check()
    refused = await chat.accept("spam")
    await chat.answer([refused], status="refused")
    await check()
    await chat.answer(waiting, "reply two", "reply three")
    await check()
    # More than the limit on each side: the oldest fall out.
    for n in range(4):
        await chat.answer([await chat.accept(f"more {n}")], f"reply more {n}")
        await check()
    # A /reset and a summary's markers start the history elsewhere.
    await check(After(at=chat.at - timedelta(seconds=3)))
    await check(After(message_id=waiting[1], reply_id=3), limit=10)
    await chat.answer([await chat.accept("last")], "reply last")
    await check(After(message_id=waiting[1], reply_id=3), limit=10)
    await store.close()
    statuses = {e.text: e.status for e in seen[4]}
    assert statuses["two"] == statuses["three"] == "handled"
    assert [e.text for e in seen[-1]][-2:] == ["last", "reply last"]


async def test_only_the_chats_used_lately_are_kept(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    recent = Recent(chats=2)
    chat_ids = []
    for n in range(3):
        inbound = Inbound("api", f"m{n}", Address("api", f"person{n}"), "hi", NOW)
        (accepted,) = await inbox.accept(store, [inbound], NOW)
        chat_ids.append(accepted.chat_id)
    for chat_id in chat_ids:
        kept, whole = await both(store, recent, chat_id, After(), 10)
        assert kept == whole
    await store.close()
    assert len(recent) == 2
