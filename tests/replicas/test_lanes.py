"""The router's lanes on leases in the shared database: a message that arrives while a lane ends is
not left waiting for the heartbeat, and a replica that stalled past its lease does not run again a
batch another replica answered meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from assistant.replicas.leases import Leases
from assistant.router import Router
from assistant.store import Store, inbox
from assistant.store.leases import Replica
from assistant.store.tables import Chat, Message, Turn
from assistant.types import Address, Inbound
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

Handler = Callable[[Chat, list[Message]], Awaitable[None]]


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[Store]:
    store = await Store.open(postgres_url)
    yield store
    await store.close()


async def say(store: Store, who: str, text: str) -> int:
    inbound = Inbound("whatsapp", f"{who}/{text}", Address("whatsapp", who), text, now())
    return (await inbox.accept(store, [inbound], now()))[0].chat_id


def answering(store: Store, turns: list[tuple[str, list[str]]], replica: str) -> Handler:
    """A turn that records what it ran and closes its batch with one reply."""

    async def handle(chat: Chat, batch: list[Message]) -> None:
        turns.append((replica, [m.text for m in batch]))
        assert chat.id is not None
        turn = Turn(chat_id=chat.id, kind="agent", started_at=now())
        await inbox.finish_turn(store, turn, [m.id for m in batch if m.id is not None], ["ok"])

    return handle


async def until(check: Callable[[], bool], timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(0.02)


async def test_a_message_that_arrives_while_the_lane_gives_its_lease_back_is_answered_at_once(
    store: Store,
) -> None:
    turns: list[tuple[str, list[str]]] = []
    router: Router | None = None

    class Late(Leases):
        """Another request on this replica stores a message just after the lane's last look."""

        sent = False

        async def due(self, chat_id: int) -> bool:
            found = await super().due(chat_id)
            if not self.sent and router is not None:
                self.sent = True
                router.notify(await say(store, "+31", "second"))
            return found

    # A 30 s lease: the heartbeat (every 10 s) would find the message only long after the wait below.
    held = Late(store, Replica("a", 30.0), now)
    router = Router(store, answering(store, turns, "a"), 2, now, batch_max=20, leases=held)
    router.notify(await say(store, "+31", "first"))
    await until(lambda: len(turns) == 2, timeout_s=5)
    assert turns == [("a", ["first"]), ("a", ["second"])]


async def test_a_replica_that_stalled_past_its_lease_does_not_run_what_another_answered(
    store: Store,
) -> None:
    turns: list[tuple[str, list[str]]] = []
    chat_id = await say(store, "+32", "first")
    other = Router(
        store,
        answering(store, turns, "b"),
        2,
        now,
        batch_max=20,
        leases=Leases(store, Replica("b", 1.0), now),
    )
    first_turn = answering(store, turns, "a")

    async def handle(chat: Chat, batch: list[Message]) -> None:
        if batch[0].text == "first":
            await say(store, "+32", "second")  # arrives while the first turn runs
        await first_turn(chat, batch)

    class Stalling(Leases):
        """Before its second round this replica stalls past its 1 s lease; meanwhile the other
        replica's heartbeat finds the chat unleased, answers "second" and gives the lease back."""

        takes = 0

        async def take(self, chat_id: int) -> bool:
            self.takes += 1
            if self.takes == 2:
                await asyncio.sleep(1.5)
                other.notify(chat_id)
                await until(lambda: ("b", ["second"]) in turns and other.lanes == 0, timeout_s=10)
            return await super().take(chat_id)

    stalling = Router(store, handle, 2, now, batch_max=20, leases=Stalling(store, Replica("a", 1.0), now))
    stalling.notify(chat_id)
    await until(lambda: ("b", ["second"]) in turns and stalling.lanes == 0, timeout_s=15)
    await asyncio.sleep(0.5)
    assert turns == [("a", ["first"]), ("b", ["second"])]
