"""Provider messages sent for replies: progress of split replies, and status callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select

from assistant.store.models import Chat, Reply, _instant
from assistant.store.store import Store

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

# A later status never moves a reply back (statuses may arrive out of order).
RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
FAILED = frozenset({"failed", "undelivered"})


class SentPart(SQLModel, table=True):
    """One message the provider accepted for a reply; a long reply is several."""

    __table_args__ = (sa.UniqueConstraint("channel", "provider_id", name="uq_sent_part_channel_provider_id"),)

    id: int | None = Field(default=None, primary_key=True)
    reply_id: int = Field(foreign_key="reply.id", index=True)
    channel: str = Field(max_length=32)
    provider_id: str = Field(max_length=255)
    part: int = 0
    status: str = Field(default="sent", max_length=16)
    error: str | None = None
    sent_at: datetime = _instant()


@dataclass(frozen=True)
class Target:
    """The reply a status update is about, with what the channel needs to act on it."""

    reply_id: int
    chat_id: int
    status: str


async def record_part(
    store: Store,
    channel: str,
    reply_id: int,
    provider_id: str,
    parts_sent: int,
    at: datetime,
    meta: dict[str, str] | None = None,
) -> None:
    """Note that part `parts_sent` of the reply went out as `provider_id`, durably, so a retry
    after a crash or a later failure starts with the next part."""
    async with store.transaction() as session:
        session.add(
            SentPart(reply_id=reply_id, channel=channel, provider_id=provider_id, part=parts_sent, sent_at=at)
        )
        reply = await session.get(Reply, reply_id)
        if reply is not None:
            reply.meta = {**reply.meta, **(meta or {}), "parts_sent": str(parts_sent)}
            reply.provider_id = provider_id


async def reply_context(store: Store, reply_id: int) -> tuple[Reply, Chat] | None:
    """The reply and its chat (for the last inbound time) as stored now."""
    async with store.session() as session:
        reply = await session.get(Reply, reply_id)
        chat = await session.get(Chat, reply.chat_id) if reply is not None else None
    return (reply, chat) if reply is not None and chat is not None else None


def next_status(current: str, update: str) -> str | None:
    """The reply's status after `update`, or None when it should stay as it is."""
    if update in FAILED:
        return "failed" if current != "failed" else None
    if update not in RANK or current not in RANK:
        return None
    return update if RANK[update] > RANK[current] else None


async def apply_status(
    store: Store, channel: str, provider_id: str, status: str, error: str | None
) -> Target | None:
    """Record the provider's news about one sent message on its part and its reply.

    Returns the reply it belongs to (with its new status), or None for an id we never sent.
    """
    query = select(SentPart).where(SentPart.channel == channel, SentPart.provider_id == provider_id)
    async with store.transaction() as session:
        part = (await session.exec(query)).first()
        reply_id = part.reply_id if part is not None else await _by_reply_column(session, provider_id)
        reply = await session.get(Reply, reply_id) if reply_id is not None else None
        if reply is None or reply.id is None:
            return None
        if reply.status == "pending":
            # Still the outbox's to settle; a news item about one part must not race it.
            if part is not None:
                part.status, part.error = status, error or part.error
            return Target(reply.id, reply.chat_id, reply.status)
        if part is not None:
            part.status, part.error = status, error or part.error
        changed = next_status(reply.status, status)
        if changed is not None:
            reply.status = changed
            reply.error = error if changed == "failed" else reply.error
        return Target(reply.id, reply.chat_id, reply.status)


async def _by_reply_column(session: AsyncSession, provider_id: str) -> int | None:
    query = select(Reply.id).where(Reply.provider_id == provider_id)
    return (await session.exec(query)).first()


async def send_again_as_template(store: Store, reply_id: int, at: datetime) -> None:
    """Put a reply refused for the 24-hour window back in the outbox, to go out as a template."""
    async with store.transaction() as session:
        reply = await session.get(Reply, reply_id)
        if reply is None or reply.meta.get("via") == "template":
            return
        reply.meta = {**reply.meta, "via": "template", "parts_sent": "0"}
        reply.status, reply.next_attempt_at = "pending", at


async def last_failure(store: Store) -> str | None:
    """`<reason> (reply <id>)` for the most recent reply that failed for good, for /status."""
    query = select(Reply.id, Reply.error).where(Reply.status == "failed").order_by(col(Reply.id).desc())
    async with store.session() as session:
        row = (await session.exec(query.limit(1))).first()
    return None if row is None else f"{row[1] or 'no reason recorded'} (reply {row[0]})"
