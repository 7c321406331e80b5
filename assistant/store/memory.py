"""What a chat keeps beyond its messages: facts, and the running summary of its older history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, delete, select

from assistant.store.models import Chat, _instant
from assistant.store.store import Store

FACT_MAX_CHARS = 500


class Fact(SQLModel, table=True):
    """Something the assistant was asked to remember in one chat; `vector` is its embedding, if any."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    text: str = Field(max_length=FACT_MAX_CHARS)
    vector: list[float] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    vector_model: str | None = Field(default=None, max_length=128)
    created_at: datetime = _instant()


class ChatSummary(SQLModel, table=True):
    """The running summary of a chat's history up to (and including) two marker ids.

    It belongs to the chat's history epoch (`history_from_at`); after a /reset the epoch moves and
    the summary no longer counts.
    """

    chat_id: int = Field(foreign_key="chat.id", primary_key=True)
    text: str = ""
    history_from_at: datetime | None = _instant(nullable=True)
    through_message_id: int = 0
    through_reply_id: int = 0
    folds: int = 0
    updated_at: datetime = _instant()


@dataclass(frozen=True)
class Summary:
    """The summary that applies to a chat now; empty with zero markers when there is none."""

    text: str = ""
    through_message_id: int = 0
    through_reply_id: int = 0
    folds: int = 0


async def facts(store: Store, chat_id: int) -> list[Fact]:
    """The chat's facts, oldest first."""
    async with store.session() as session:
        query = select(Fact).where(Fact.chat_id == chat_id).order_by(col(Fact.id))
        return list(await session.exec(query))


async def add_fact(store: Store, fact: Fact) -> Fact:
    """Store `fact`, or return the chat's existing fact with the same text."""
    async with store.transaction() as session:
        query = select(Fact).where(Fact.chat_id == fact.chat_id, Fact.text == fact.text)
        existing = (await session.exec(query)).first()
        if existing is not None:
            return existing
        session.add(fact)
        await session.flush()
        return fact


async def delete_fact(store: Store, chat_id: int, fact_id: int) -> bool:
    """Remove the chat's fact `fact_id`; False when the chat has no such fact."""
    async with store.transaction() as session:
        query = delete(Fact).where(col(Fact.id) == fact_id, col(Fact.chat_id) == chat_id)
        result = await session.exec(query)
        return bool(result.rowcount)


async def set_vectors(store: Store, vectors: dict[int, list[float]], model: str) -> None:
    """Record embeddings computed later for facts stored without one."""
    async with store.transaction() as session:
        for fact in await session.exec(select(Fact).where(col(Fact.id).in_(list(vectors)))):
            fact.vector = vectors[fact.id or 0]
            fact.vector_model = model


async def summary(store: Store, chat: Chat) -> Summary:
    """The chat's summary for its current history epoch."""
    async with store.session() as session:
        row = await session.get(ChatSummary, chat.id)
    if row is None or row.history_from_at != chat.history_from_at:
        return Summary()
    return Summary(row.text, row.through_message_id, row.through_reply_id, row.folds)


async def save_summary(store: Store, chat: Chat, new: Summary, at: datetime) -> None:
    """Replace the chat's summary; the messages themselves are never touched."""
    async with store.transaction() as session:
        row = await session.get(ChatSummary, chat.id) or ChatSummary(chat_id=chat.id or 0)
        row.text, row.history_from_at, row.updated_at = new.text, chat.history_from_at, at
        row.through_message_id, row.through_reply_id = new.through_message_id, new.through_reply_id
        row.folds = new.folds
        session.add(row)
