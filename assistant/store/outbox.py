"""The outbox: replies waiting to be delivered, and what became of each attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, or_, select

from assistant.store.models import Chat, Reply
from assistant.store.store import Store


@dataclass(frozen=True)
class Due:
    reply: Reply
    chat: Chat


async def due(store: Store, now: datetime, limit: int = 200) -> list[Due]:
    """Pending replies whose next attempt is due, oldest first, leaving out every chat that has an
    earlier reply waiting for a retry (a chat's replies go out in order)."""
    waiting = select(Reply.chat_id).where(Reply.status == "pending", col(Reply.next_attempt_at) > now)
    query = (
        select(Reply, Chat)
        .join(Chat, col(Chat.id) == Reply.chat_id)
        .where(
            Reply.status == "pending",
            or_(col(Reply.next_attempt_at).is_(None), col(Reply.next_attempt_at) <= now),
            col(Reply.chat_id).not_in(waiting),
        )
        .order_by(col(Reply.id))
        .limit(limit)
    )
    async with store.read() as session:
        return [Due(reply, chat) for reply, chat in await session.exec(query)]


async def next_attempt_at(store: Store) -> datetime | None:
    """When the earliest pending reply that is waiting to be retried becomes due."""
    query = select(func.min(Reply.next_attempt_at)).where(Reply.status == "pending")
    async with store.read() as session:
        return (await session.exec(query)).one()


async def _update(store: Store, reply_id: int, **values: object) -> None:
    async with store.write() as session:
        reply = await session.get(Reply, reply_id)
        if reply is None:
            return
        for name, value in values.items():
            setattr(reply, name, value)


async def mark_sent(store: Store, reply_id: int, provider_id: str | None, at: datetime) -> None:
    await _update(store, reply_id, status="sent", provider_id=provider_id, sent_at=at, next_attempt_at=None)


async def mark_retry(store: Store, reply_id: int, attempts: int, next_at: datetime, error: str) -> None:
    await _update(store, reply_id, attempts=attempts, next_attempt_at=next_at, error=error)


async def mark_failed(store: Store, reply_id: int, attempts: int, error: str) -> None:
    await _update(store, reply_id, status="failed", attempts=attempts, error=error, next_attempt_at=None)
