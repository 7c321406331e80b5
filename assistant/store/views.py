"""Read-only views: a message with its replies, a chat's transcript, its history, queue sizes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import col, func, select

from assistant.store.models import Chat, Message, Reply
from assistant.store.store import Store


@dataclass(frozen=True)
class Entry:
    """One line of a chat: a person's message or the assistant's reply."""

    id: int
    role: Literal["user", "assistant"]
    text: str
    status: str
    created_at: datetime
    notice: bool = False


@dataclass(frozen=True)
class MessageView:
    message: Message
    replies: list[Reply]


@dataclass(frozen=True)
class Counts:
    pending_messages: int
    pending_replies: int


async def message_view(store: Store, message_id: int) -> MessageView | None:
    """The message and the replies of the turn that handled it."""
    async with store.read() as session:
        message = await session.get(Message, message_id)
        if message is None:
            return None
        if message.turn_id is None:
            return MessageView(message, [])
        query = select(Reply).where(Reply.turn_id == message.turn_id).order_by(col(Reply.id))
        return MessageView(message, list(await session.exec(query)))


async def find_chat(store: Store, channel: str, address: str) -> Chat | None:
    async with store.read() as session:
        query = select(Chat).where(Chat.channel == channel, Chat.address == address)
        return (await session.exec(query)).first()


async def entries(
    store: Store, chat_id: int, since: datetime | None = None, limit: int | None = None
) -> list[Entry]:
    """The chat's messages and replies in the order they were written, the newest `limit` of each."""
    messages = select(Message).where(Message.chat_id == chat_id, Message.kind != "job")
    replies = select(Reply).where(Reply.chat_id == chat_id)
    if since is not None:
        messages = messages.where(col(Message.created_at) > since)
        replies = replies.where(col(Reply.created_at) > since)
    messages = messages.order_by(col(Message.id).desc()).limit(limit)
    replies = replies.order_by(col(Reply.id).desc()).limit(limit)
    async with store.read() as session:
        found = [
            Entry(m.id or 0, "user", m.text, m.status, m.created_at) for m in await session.exec(messages)
        ]
        found += [
            Entry(r.id or 0, "assistant", r.text, r.status, r.created_at, _is_notice(r))
            for r in await session.exec(replies)
        ]
    found.sort(key=lambda e: (e.created_at, e.role == "assistant", e.id))
    return found


def _is_notice(reply: Reply) -> bool:
    return reply.meta.get("kind") == "notice"


async def counts(store: Store) -> Counts:
    async with store.read() as session:
        accepted = select(func.count()).select_from(Message).where(Message.status == "accepted")
        pending = select(func.count()).select_from(Reply).where(Reply.status == "pending")
        return Counts((await session.exec(accepted)).one(), (await session.exec(pending)).one())
