"""The tables: chats, inbound messages (the inbox), replies (the outbox) and turns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores instants in UTC and always gives back timezone-aware datetimes, on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone-aware instant")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _instant(*, nullable: bool = False) -> Any:
    column: sa.Column[datetime] = sa.Column(UTCDateTime(), nullable=nullable)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


class Chat(SQLModel, table=True):
    """One conversation with one person on one channel."""

    __table_args__ = (sa.UniqueConstraint("channel", "address", name="uq_chat_channel_address"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    address: str = Field(max_length=255)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = _instant()
    last_inbound_at: datetime | None = _instant(nullable=True)
    history_from_at: datetime | None = _instant(nullable=True)


class Message(SQLModel, table=True):
    """An inbound message from a person or a job; `accepted` until a turn handles it."""

    __table_args__ = (
        sa.UniqueConstraint("channel", "provider_id", name="uq_message_channel_provider_id"),
        sa.Index("ix_message_status_chat", "status", "chat_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    channel: str = Field(max_length=32)
    provider_id: str = Field(max_length=255)
    kind: str = Field(default="text", max_length=16)
    text: str
    meta: dict[str, str] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    status: str = Field(default="accepted", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _instant(nullable=True)
    turn_id: int | None = Field(default=None, foreign_key="turn.id")
    created_at: datetime = _instant()
    handled_at: datetime | None = _instant(nullable=True)


class Reply(SQLModel, table=True):
    """An outbound reply; the outbox is the replies whose status is `pending`."""

    __table_args__ = (sa.Index("ix_reply_status_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    turn_id: int | None = Field(default=None, foreign_key="turn.id", index=True)
    text: str
    meta: dict[str, str] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _instant(nullable=True)
    provider_id: str | None = Field(default=None, max_length=255, index=True)
    error: str | None = None
    created_at: datetime = _instant()
    sent_at: datetime | None = _instant(nullable=True)


class Turn(SQLModel, table=True):
    """One run answering one or more messages: an agent turn or a command."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    kind: str = Field(default="agent", max_length=16)
    model: str | None = Field(default=None, max_length=128)
    started_at: datetime = _instant()
    finished_at: datetime | None = _instant(nullable=True)
    duration_ms: int | None = None
    steps: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0
    error: str | None = None


# Imported last: tables kept in their own modules need the column types above, and register
# themselves with the metadata on import.
from assistant.store import jobs as _jobs  # noqa: E402, F401
from assistant.store import memory as _memory  # noqa: E402, F401
from assistant.store import pairing as _pairing  # noqa: E402, F401
from assistant.store import runs as _runs  # noqa: E402, F401
from assistant.store import sent as _sent  # noqa: E402, F401
