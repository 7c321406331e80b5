"""Read-only views: a message with its replies, a chat's transcript, its history, queue sizes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, func, select

from assistant.store import Store
from assistant.store.tables import Chat, Message, Reply


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


def _message_view(session: Session, message_id: int) -> MessageView | None:
    message = session.get(Message, message_id)
    if message is None:
        return None
    if message.turn_id is None:
        return MessageView(message, [])
    query = select(Reply).where(Reply.turn_id == message.turn_id).order_by(col(Reply.id))
    return MessageView(message, list(session.exec(query)))


async def message_view(store: Store, message_id: int) -> MessageView | None:
    """The message and the replies of the turn that handled it."""
    return await store.read(lambda s: _message_view(s, message_id))


async def find_chat(store: Store, channel: str, address: str) -> Chat | None:
    query = select(Chat).where(Chat.channel == channel, Chat.address == address)
    return await store.read(lambda s: s.exec(query).first())


def _is_notice(reply: Reply) -> bool:
    return reply.meta.get("kind") == "notice"


@dataclass(frozen=True)
class After:
    """Where a chat's history starts: after a /reset, and after what a summary already covers."""

    at: datetime | None = None
    message_id: int = 0
    reply_id: int = 0


# Messages the model never sees: not yet answered, or refused by access control or the rate limit.
NOT_HISTORY = frozenset({"accepted", "refused", "limited"})


def _entries(session: Session, chat_id: int, after: After, limit: int | None) -> list[Entry]:
    messages = select(Message).where(
        Message.chat_id == chat_id, Message.kind != "job", col(Message.id) > after.message_id
    )
    replies = select(Reply).where(Reply.chat_id == chat_id, col(Reply.id) > after.reply_id)
    since = after.at
    if since is not None:
        messages = messages.where(col(Message.created_at) > since)
        replies = replies.where(col(Reply.created_at) > since)
    messages = messages.order_by(col(Message.id).desc()).limit(limit)
    replies = replies.order_by(col(Reply.id).desc()).limit(limit)
    found = [Entry(m.id or 0, "user", m.text, m.status, m.created_at) for m in session.exec(messages)]
    found += [
        Entry(r.id or 0, "assistant", r.text, r.status, r.created_at, _is_notice(r))
        for r in session.exec(replies)
    ]
    found.sort(key=lambda e: (e.created_at, e.role == "assistant", e.id))
    return found


async def entries(
    store: Store, chat_id: int, since: datetime | None = None, limit: int | None = None
) -> list[Entry]:
    """The chat's messages and replies in the order they were written, the newest `limit` of each."""
    return await store.read(lambda s: _entries(s, chat_id, After(since), limit))


async def history(store: Store, chat_id: int, after: After, limit: int) -> list[Entry]:
    """What the model may see of a chat's past: answered messages and real replies (no notices)."""
    found = await store.read(lambda s: _entries(s, chat_id, after, limit))
    return [e for e in found if e.status not in NOT_HISTORY and not e.notice]


def _counts(session: Session) -> Counts:
    accepted = select(func.count()).select_from(Message).where(Message.status == "accepted")
    pending = select(func.count()).select_from(Reply).where(Reply.status == "pending")
    return Counts(session.exec(accepted).one(), session.exec(pending).one())


async def counts(store: Store) -> Counts:
    return await store.read(_counts)
