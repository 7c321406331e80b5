"""Leases and claims in the shared database: one replica at a time holds a chat, a reply is sent by
the replica that claimed it, and a dead replica's hold runs out; a turn whose messages another turn
closed first writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection
from sqlmodel import func, select

from assistant.store import Store, inbox, leases, outbox
from assistant.store.batch import Accepted, accept_many
from assistant.store.inbox import Superseded
from assistant.store.leases import Replica
from assistant.store.tables import Message, Reply, Turn
from assistant.types import Address, Inbound
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

A, B = Replica("a", 30.0), Replica("b", 30.0)


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[Store]:
    store = await Store.open(postgres_url)
    yield store
    await store.close()


async def _chat(store: Store, who: str, *texts: str) -> tuple[int, list[int]]:
    now = datetime.now(UTC)
    sender = Address("whatsapp", who)
    found = await inbox.accept(store, [Inbound("whatsapp", f"{who}/{t}", sender, t, now) for t in texts], now)
    return found[0].chat_id, [a.message_id for a in found]


async def test_one_replica_holds_a_chat_until_it_gives_it_back(store: Store) -> None:
    chat_id, _ = await _chat(store, "+1", "hi")
    assert await leases.take(store, chat_id, A)
    assert not await leases.take(store, chat_id, B)
    assert await leases.take(store, chat_id, A)  # its own: renewed
    assert await leases.unleased(store, datetime.now(UTC)) == []
    await leases.give_back(store, chat_id, B)  # not B's to give
    assert not await leases.take(store, chat_id, B)
    await leases.give_back(store, chat_id, A)
    assert await leases.unleased(store, datetime.now(UTC)) == [chat_id]
    assert await leases.take(store, chat_id, B)


async def test_a_dead_replicas_lease_runs_out_unless_renewed(store: Store) -> None:
    short = Replica("short", 0.5)
    chat_id, _ = await _chat(store, "+2", "hi")
    assert await leases.take(store, chat_id, short)
    await asyncio.sleep(0.3)
    assert await leases.renew(store, short, [chat_id]) == 1
    await asyncio.sleep(0.3)
    assert not await leases.take(store, chat_id, B)  # renewed 0.3 s ago: still held
    await asyncio.sleep(0.4)
    assert await leases.unleased(store, datetime.now(UTC)) == [chat_id]
    assert await leases.take(store, chat_id, B)
    assert await leases.renew(store, short, [chat_id]) == 0


async def test_a_lease_no_lane_runs_is_not_renewed(store: Store) -> None:
    # Margins of most of a second either way, so a slow machine's pauses do not decide it.
    short = Replica("short", 2.0)
    (running, _), (left, _) = await _chat(store, "+8", "hi"), await _chat(store, "+9", "hi")
    assert await leases.take(store, running, short)
    assert await leases.take(store, left, short)  # its lane died without giving it back
    await asyncio.sleep(1.2)
    assert await leases.renew(store, short, [running]) == 1
    await asyncio.sleep(1.2)
    assert await leases.unleased(store, datetime.now(UTC)) == [left]


async def test_a_chats_replies_are_sent_by_the_replica_that_claimed_the_first(store: Store) -> None:
    now = datetime.now(UTC)
    one, [m1] = await _chat(store, "+3", "one")
    two, [m2] = await _chat(store, "+4", "two")
    await inbox.finish_turn(store, Turn(chat_id=one, started_at=now), [m1], ["1a"])
    claimed = await outbox.due(store, now, {"whatsapp"}, replica=A)
    assert [d.reply.text for d in claimed] == ["1a"]
    # A later reply in the same chat waits for A; another chat's is free for B.
    _, [m3] = await _chat(store, "+3", "three")
    await inbox.finish_turn(store, Turn(chat_id=one, started_at=now), [m3], ["1b"])
    await inbox.finish_turn(store, Turn(chat_id=two, started_at=now), [m2], ["2a"])
    assert [d.reply.text for d in await outbox.due(store, now, {"whatsapp"}, replica=B)] == ["2a"]
    assert [d.reply.text for d in await outbox.due(store, now, {"whatsapp"}, replica=B)] == ["2a"]
    await outbox.settle(store, claimed[0].reply.id or 0, "wamid.1a", now)
    assert [d.reply.text for d in await outbox.due(store, now, {"whatsapp"}, replica=B)] == ["1b", "2a"]


async def test_a_dead_replicas_claims_pass_on_when_they_run_out(store: Store) -> None:
    now = datetime.now(UTC)
    short = Replica("short", 0.3)
    chat_id, [m1] = await _chat(store, "+5", "one")
    await inbox.finish_turn(store, Turn(chat_id=chat_id, started_at=now), [m1], ["r"])
    assert len(await outbox.due(store, now, {"whatsapp"}, replica=short)) == 1
    assert await outbox.due(store, now, {"whatsapp"}, replica=B) == []
    await asyncio.sleep(0.5)
    assert [d.reply.text for d in await outbox.due(store, now, {"whatsapp"}, replica=B)] == ["r"]


async def test_a_failed_send_heard_after_the_claim_passed_on_changes_nothing(store: Store) -> None:
    now = datetime.now(UTC)
    short = Replica("short", 0.3)
    chat_id, [m1] = await _chat(store, "+10", "one")
    [reply_id] = await inbox.finish_turn(store, Turn(chat_id=chat_id, started_at=now), [m1], ["r"])
    assert len(await outbox.due(store, now, {"whatsapp"}, replica=short)) == 1
    await asyncio.sleep(0.5)  # the claim runs out while its send hangs; B claims the reply
    assert [d.reply.id for d in await outbox.due(store, now, {"whatsapp"}, replica=B)] == [reply_id]
    await outbox.record(store, [outbox.failed(reply_id, 1, "timed out")], short)
    claimed = await store.read(lambda s: s.get(Reply, reply_id))
    assert claimed is not None
    assert (claimed.status, claimed.claimed_by, claimed.error) == ("pending", "b", None)
    await outbox.settle(store, reply_id, "wamid.r", now)
    await outbox.record(store, [outbox.retry(reply_id, 1, now, "timed out")], short)
    sent = await store.read(lambda s: s.get(Reply, reply_id))
    assert sent is not None
    assert (sent.status, sent.next_attempt_at, sent.error) == ("sent", None, None)


async def test_a_stopping_replica_lets_its_leases_and_claims_go(store: Store) -> None:
    now = datetime.now(UTC)
    chat_id, [m1] = await _chat(store, "+6", "one")
    await inbox.finish_turn(store, Turn(chat_id=chat_id, started_at=now), [m1], ["r"])
    assert await leases.take(store, chat_id, A)
    assert len(await outbox.due(store, now, {"whatsapp"}, replica=A)) == 1
    await leases.release(store, A)
    assert await leases.take(store, chat_id, B)
    assert len(await outbox.due(store, now, {"whatsapp"}, replica=B)) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
async def either(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'h.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = await Store.open(url)
    yield store
    await store.close()


async def test_a_turn_whose_messages_were_answered_meanwhile_writes_nothing(either: Store) -> None:
    store = either
    now = datetime.now(UTC)
    chat_id, ids = await _chat(store, "+7", "one", "two")
    await inbox.finish_turn(store, Turn(chat_id=chat_id, started_at=now), ids[:1], ["first"])
    with pytest.raises(Superseded):
        await inbox.finish_turn(store, Turn(chat_id=chat_id, started_at=now), ids, ["again"])
    texts = await store.read(lambda s: list(s.exec(select(Reply.text))))
    turns = await store.read(lambda s: s.exec(select(func.count()).select_from(Turn)).one())
    assert (texts, turns) == (["first"], 1)
    pending = await inbox.pending(store, chat_id)
    assert pending is not None
    assert [m.text for m in pending.messages] == ["two"]


@pytest.mark.parametrize("chats", ["new", "known"])
async def test_the_same_webhook_on_two_replicas_at_once_is_stored_once_and_fails_nothing_else(
    store: Store, chats: str
) -> None:
    # Replica 1 has stored message X (and its chat, when new) but not committed; replica 2's group
    # commit holds X again and Y, and waits on X's unique keys until replica 1 commits.
    now = datetime.now(UTC)
    if chats == "known":
        await _chat(store, "+41", "before")
        await _chat(store, "+42", "before")
    x = Inbound("whatsapp", "wamid.X", Address("whatsapp", "+41"), "hi", now)
    y = Inbound("whatsapp", "wamid.Y", Address("whatsapp", "+42"), "unrelated", now)
    with store.engine.connect() as first, store.engine.connect() as second:
        with first.begin():
            [stored] = accept_many(first, [(x, now)])
            later = asyncio.create_task(
                asyncio.to_thread(_accept_in_a_transaction, second, [(x, now), (y, now)])
            )
            await asyncio.sleep(0.5)
            assert not later.done()  # waiting for replica 1's transaction
        again, other = await later
    texts = await store.read(lambda s: sorted(s.exec(select(Message.text).where(Message.text != "before"))))
    assert texts == ["hi", "unrelated"]
    assert (again.message_id, again.chat_id) == (stored.message_id, stored.chat_id)
    assert other.new


def _accept_in_a_transaction(conn: Connection, items: list[tuple[Inbound, datetime]]) -> list[Accepted]:
    with conn.begin():
        return accept_many(conn, items)
