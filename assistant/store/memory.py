"""Queries on what a chat keeps beyond its messages: facts, and the running summary of its older history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from assistant.store import Store, rows
from assistant.store.prepared import Prepared
from assistant.store.recent import Recent
from assistant.store.tables import Chat, ChatSummary, Fact
from assistant.store.views import After, Entry, for_model, history_in


@dataclass(frozen=True)
class Summary:
    """The summary that applies to a chat now; empty with zero markers when there is none."""

    text: str = ""
    through_message_id: int = 0
    through_reply_id: int = 0
    folds: int = 0


async def facts(store: Store, chat_id: int) -> list[Fact]:
    """The chat's facts, oldest first."""
    query = select(Fact).where(Fact.chat_id == chat_id).order_by(col(Fact.id))
    return await store.read(lambda s: list(s.exec(query)))


async def add_fact(store: Store, fact: Fact) -> Fact:
    """Store `fact`, or return the chat's existing fact with the same text or the same effect key."""

    def add(session: Session) -> Fact:
        same = col(Fact.text) == fact.text
        if fact.effect_key is not None:
            same = sa.or_(same, col(Fact.effect_key) == fact.effect_key)
        query = select(Fact).where(Fact.chat_id == fact.chat_id, same)
        existing = session.exec(query).first()
        if existing is not None:
            return existing
        session.add(fact)
        session.flush()
        return fact

    return await store.write(add)


async def delete_fact(store: Store, chat_id: int, fact_id: int) -> bool:
    """Remove the chat's fact `fact_id`; False when the chat has no such fact."""
    query = delete(Fact).where(col(Fact.id) == fact_id, col(Fact.chat_id) == chat_id)
    return await store.write(lambda s: bool(s.exec(query).rowcount))


async def set_vectors(store: Store, vectors: dict[int, list[float]], model: str) -> None:
    """Record embeddings computed later for facts stored without one."""

    def save(session: Session) -> None:
        for fact in session.exec(select(Fact).where(col(Fact.id).in_(list(vectors)))):
            fact.vector = vectors[fact.id or 0]
            fact.vector_model = model

    await store.write(save)


def _summary(row: ChatSummary | None, chat: Chat) -> Summary:
    if row is None or row.history_from_at != chat.history_from_at:
        return Summary()
    return Summary(row.text, row.through_message_id, row.through_reply_id, row.folds)


async def summary(store: Store, chat: Chat) -> Summary:
    """The chat's summary for its current history epoch."""
    return _summary(await store.read(lambda s: s.get(ChatSummary, chat.id)), chat)


@dataclass(frozen=True)
class Recall:
    """What a turn starts from: the chat's facts, its summary, and its history after the summary."""

    facts: list[Fact]
    summary: Summary
    history: list[Entry]


# Built once: every turn recalls, and building these cost more than running them.
_FACT_COLUMNS = rows.columns(Fact)
_FACT_NAMES = [c.name for c in _FACT_COLUMNS]
_FACTS = Prepared(
    sa.select(*_FACT_COLUMNS).where(col(Fact.chat_id) == sa.bindparam("chat_id")).order_by(col(Fact.id))
)
_SUMMARY = Prepared(
    sa.select(
        col(ChatSummary.text),
        col(ChatSummary.through_message_id),
        col(ChatSummary.through_reply_id),
        col(ChatSummary.folds),
        col(ChatSummary.history_from_at),
    ).where(col(ChatSummary.chat_id) == sa.bindparam("chat_id"))
)


def _recall(session: Session, chat: Chat, limit: int, recent: Recent | None) -> Recall:
    assert chat.id is not None
    connection = session.connection()
    values = {"chat_id": chat.id}
    facts = [rows.loaded(Fact, _FACT_NAMES, row) for row in _FACTS.rows(connection, values)]
    row = _SUMMARY.first(connection, values)
    marker = Summary()
    if row is not None and row[4] == chat.history_from_at:
        marker = Summary(row[0], row[1], row[2], row[3])
    after = After(chat.history_from_at, marker.through_message_id, marker.through_reply_id)
    if recent is None:
        return Recall(facts, marker, history_in(session, chat.id, after, limit))
    return Recall(facts, marker, for_model(recent.entries(session, chat.id, after, limit)))


async def recall(store: Store, chat: Chat, limit: int, recent: Recent | None = None) -> Recall:
    """The chat's facts (oldest first), its summary, and what the model may see of its history after
    the summary's markers and the last /reset (the newest `limit` of each side), in one read; with
    `recent`, only the rows it has not kept are read."""
    return await store.read(lambda s: _recall(s, chat, limit, recent))


async def save_summary(store: Store, chat: Chat, new: Summary, at: datetime) -> None:
    """Replace the chat's summary; the messages themselves are never touched."""

    def save(session: Session) -> None:
        row = session.get(ChatSummary, chat.id) or ChatSummary(chat_id=chat.id or 0)
        row.text, row.history_from_at, row.updated_at = new.text, chat.history_from_at, at
        row.through_message_id, row.through_reply_id = new.through_message_id, new.through_reply_id
        row.folds = new.folds
        session.add(row)

    await store.write(save)
