"""A chat's history as the prompt sees it: what the running summary does not yet cover."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from assistant.store.memory import Summary
from assistant.store.models import Chat, Message, Reply
from assistant.store.store import Store
from assistant.store.views import Entry


async def unsummarised(store: Store, chat: Chat, marker: Summary, limit: int) -> list[Entry]:
    """The chat's handled messages and real replies after the summary markers and the last /reset,
    the newest `limit` of each, in the order they were written."""
    messages = select(Message).where(
        Message.chat_id == chat.id,
        Message.kind != "job",
        Message.status != "accepted",
        col(Message.id) > marker.through_message_id,
    )
    replies = select(Reply).where(Reply.chat_id == chat.id, col(Reply.id) > marker.through_reply_id)
    if chat.history_from_at is not None:
        messages = messages.where(col(Message.created_at) > chat.history_from_at)
        replies = replies.where(col(Reply.created_at) > chat.history_from_at)
    async with store.session() as session:
        found = [
            Entry(m.id or 0, "user", m.text, m.status, m.created_at)
            for m in await session.exec(messages.order_by(col(Message.id).desc()).limit(limit))
        ]
        found += [
            Entry(r.id or 0, "assistant", r.text, r.status, r.created_at)
            for r in await session.exec(replies.order_by(col(Reply.id).desc()).limit(limit))
            if r.meta.get("kind") != "notice"
        ]
    return sort_entries(found)


def sort_entries(found: Sequence[Entry]) -> list[Entry]:
    """Entries in the order they were written (the same order as the chat's transcript)."""
    return sorted(found, key=lambda e: (e.created_at, e.role == "assistant", e.id))
