"""The inbox: accepting messages durably, finding what is pending, and closing turns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assistant.store.models import Chat, Message, Reply, Turn
from assistant.store.store import Store
from assistant.types import Inbound


@dataclass(frozen=True)
class Accepted:
    """What the inbox did with one inbound message; `new` is False for a redelivery."""

    message_id: int
    chat_id: int
    new: bool


async def chat_for(session: AsyncSession, channel: str, address: str, now: datetime) -> Chat:
    """The chat for (channel, address), created on first sight."""
    query = select(Chat).where(Chat.channel == channel, Chat.address == address)
    chat = (await session.exec(query)).first()
    if chat is None:
        chat = Chat(channel=channel, address=address, created_at=now)
        session.add(chat)
        await session.flush()
    return chat


async def _accept_one(session: AsyncSession, inbound: Inbound, now: datetime) -> Accepted:
    chat = await chat_for(session, inbound.channel, str(inbound.sender), now)
    assert chat.id is not None
    query = select(Message.id).where(
        Message.channel == inbound.channel, Message.provider_id == inbound.provider_id
    )
    existing = (await session.exec(query)).first()
    if existing is not None:
        return Accepted(existing, chat.id, new=False)
    message = Message(
        chat_id=chat.id,
        channel=inbound.channel,
        provider_id=inbound.provider_id,
        kind=inbound.kind,
        text=inbound.text,
        meta=dict(inbound.meta),
        created_at=now,
    )
    session.add(message)
    if inbound.kind != "job":
        chat.last_inbound_at = inbound.received_at
    await session.flush()
    assert message.id is not None
    return Accepted(message.id, chat.id, new=True)


async def accept(store: Store, inbounds: Sequence[Inbound], now: datetime) -> list[Accepted]:
    """Store every message in one transaction; a message already stored is not stored again."""
    async with store.write() as session:
        return [await _accept_one(session, inbound, now) for inbound in inbounds]


async def pending_chat_ids(store: Store) -> list[int]:
    """Chats with accepted messages not yet handled."""
    async with store.read() as session:
        query = select(Message.chat_id).where(Message.status == "accepted").distinct()
        return list(await session.exec(query))


async def pending(store: Store, chat_id: int) -> list[Message]:
    """A chat's accepted messages, oldest first."""
    async with store.read() as session:
        query = (
            select(Message)
            .where(Message.chat_id == chat_id, Message.status == "accepted")
            .order_by(col(Message.id))
        )
        return list(await session.exec(query))


async def get_chat(store: Store, chat_id: int) -> Chat:
    async with store.read() as session:
        chat = await session.get(Chat, chat_id)
    if chat is None:
        raise LookupError(f"no chat {chat_id}")
    return chat


async def _mark(
    session: AsyncSession, message_ids: Sequence[int], status: str, turn_id: int, at: datetime
) -> None:
    query = select(Message).where(col(Message.id).in_(message_ids))
    for message in await session.exec(query):
        message.status = status
        message.turn_id = turn_id
        message.handled_at = at
        message.next_attempt_at = None


async def finish_turn(
    store: Store,
    turn: Turn,
    message_ids: Sequence[int],
    replies: Sequence[str],
    status: str = "handled",
) -> list[int]:
    """Record the turn, put its replies in the outbox and close its messages, all in one transaction."""
    async with store.write() as session:
        session.add(turn)
        await session.flush()
        assert turn.id is not None
        rows = [Reply(chat_id=turn.chat_id, turn_id=turn.id, text=text) for text in replies]
        session.add_all(rows)
        at = turn.finished_at or turn.started_at
        await _mark(session, message_ids, status, turn.id, at)
        await session.flush()
        return [row.id for row in rows if row.id is not None]


async def defer(
    store: Store,
    turn: Turn,
    message_ids: Sequence[int],
    next_attempt_at: datetime,
    notice: str | None,
) -> None:
    """Keep the messages pending until `next_attempt_at`; record the failed turn and an optional notice."""
    async with store.write() as session:
        session.add(turn)
        await session.flush()
        if notice:
            meta = {"kind": "notice"}
            session.add(Reply(chat_id=turn.chat_id, turn_id=turn.id, text=notice, meta=meta))
        query = select(Message).where(col(Message.id).in_(message_ids))
        for message in await session.exec(query):
            message.attempts += 1
            message.next_attempt_at = next_attempt_at


async def reset_chat(store: Store, chat_id: int, at: datetime) -> None:
    """Forget the chat's history for the model; the rows themselves stay."""
    async with store.write() as session:
        chat = await session.get(Chat, chat_id)
        if chat is not None:
            chat.history_from_at = at
