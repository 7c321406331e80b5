"""The outbox: replies waiting to be delivered, and what became of each attempt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, or_, select

from assistant.store import Store
from assistant.store.tables import Chat, Reply


@dataclass(frozen=True)
class Due:
    reply: Reply
    chat: Chat


def _due(session: Session, now: datetime, limit: int) -> list[Due]:
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
    return [Due(reply, chat) for reply, chat in session.exec(query)]


async def due(store: Store, now: datetime, limit: int = 200) -> list[Due]:
    """Pending replies whose next attempt is due, oldest first, leaving out every chat that has an
    earlier reply waiting for a retry (a chat's replies go out in order)."""
    return await store.read(lambda s: _due(s, now, limit))


async def next_attempt_at(store: Store) -> datetime | None:
    """When the earliest pending reply that is waiting to be retried becomes due."""
    query = select(func.min(Reply.next_attempt_at)).where(Reply.status == "pending")
    return await store.read(lambda s: s.exec(query).one())


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt changes on its reply row."""

    reply_id: int
    values: dict[str, Any]


def sent(reply_id: int, provider_id: str | None, at: datetime) -> Outcome:
    values = {"status": "sent", "provider_id": provider_id, "sent_at": at, "next_attempt_at": None}
    return Outcome(reply_id, values)


def retry(reply_id: int, attempts: int, next_at: datetime, error: str) -> Outcome:
    return Outcome(reply_id, {"attempts": attempts, "next_attempt_at": next_at, "error": error})


def failed(reply_id: int, attempts: int, error: str) -> Outcome:
    values = {"status": "failed", "attempts": attempts, "error": error, "next_attempt_at": None}
    return Outcome(reply_id, values)


def _record(session: Session, outcomes: Sequence[Outcome]) -> None:
    for outcome in outcomes:
        reply = session.get(Reply, outcome.reply_id)
        if reply is not None:
            for name, value in outcome.values.items():
                setattr(reply, name, value)


async def record(store: Store, outcomes: Sequence[Outcome]) -> None:
    """Write what became of several delivery attempts in one transaction."""
    if outcomes:
        await store.write(lambda s: _record(s, outcomes))
