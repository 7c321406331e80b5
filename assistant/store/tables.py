"""Every table Hearth keeps, in one place: chats, the inbox and outbox, leases, turns, jobs, memory,
pairing, runs, media files, approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from assistant.store.columns import UTCDateTime, instant, utcnow

FACT_MAX_CHARS = 500


class Chat(SQLModel, table=True):
    """One conversation with one person on one channel."""

    __table_args__ = (sa.UniqueConstraint("channel", "address", name="uq_chat_channel_address"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    address: str = Field(max_length=255)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = instant()
    last_inbound_at: datetime | None = instant(nullable=True)
    history_from_at: datetime | None = instant(nullable=True)


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
    next_attempt_at: datetime | None = instant(nullable=True)
    turn_id: int | None = Field(default=None, foreign_key="turn.id")
    created_at: datetime = instant()
    handled_at: datetime | None = instant(nullable=True)


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
    next_attempt_at: datetime | None = instant(nullable=True)
    provider_id: str | None = Field(default=None, max_length=255, index=True)
    error: str | None = None
    created_at: datetime = instant()
    sent_at: datetime | None = instant(nullable=True)
    # On a database shared by replicas: the replica sending it, until when (see store.leases).
    claimed_by: str | None = Field(default=None, max_length=96)
    claimed_until: datetime | None = instant(nullable=True)


class Lease(SQLModel, table=True):
    """On a database shared by replicas: the replica handling a chat's messages, until when."""

    chat_id: int = Field(foreign_key="chat.id", primary_key=True)
    owner: str = Field(max_length=96, index=True)
    expires_at: datetime = instant()


class Turn(SQLModel, table=True):
    """One run answering one or more messages: an agent turn or a command."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    kind: str = Field(default="agent", max_length=16)
    model: str | None = Field(default=None, max_length=128)
    started_at: datetime = instant()
    finished_at: datetime | None = instant(nullable=True)
    duration_ms: int | None = None
    steps: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0
    error: str | None = None


class Job(SQLModel, table=True):
    """One scheduled reminder (fixed text sent as is) or task (a prompt the agent runs).

    `last_due_at` is the latest due time fired or recorded as missed: no due time at or before it
    fires again. `cancelled_at` marks a soft delete; cancelled rows stay for the record.
    """

    __table_args__ = (sa.Index("ux_job_effect_key", "effect_key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    kind: str = Field(max_length=16)
    text: str
    trigger_kind: str = Field(max_length=8)
    trigger_value: str = Field(max_length=255)
    timezone: str = Field(max_length=64)
    anchor_at: datetime = instant()
    grace_s: float = 3600.0
    next_run_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True, index=True)
    )
    last_due_at: datetime | None = instant(nullable=True)
    last_run_at: datetime | None = instant(nullable=True)
    last_outcome: str | None = Field(default=None, max_length=16)
    consecutive_failures: int = 0
    retry_at: datetime | None = instant(nullable=True)
    paused: bool = False
    cancelled_at: datetime | None = instant(nullable=True)
    created_by: str = Field(default="", max_length=255)
    created_at: datetime = instant()
    # The tool call that made it (`m17:2`): a replayed turn finds the job instead of adding another.
    effect_key: str | None = Field(default=None, max_length=255)
    # Tools with an effect the person approved this job to use in its unattended runs.
    approved_tools: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))

    @property
    def active(self) -> bool:
        """Not cancelled, not paused, and with a due time ahead."""
        return self.cancelled_at is None and not self.paused and self.next_run_at is not None


class Fact(SQLModel, table=True):
    """Something the assistant was asked to remember in one chat; `vector` is its embedding, if any."""

    __table_args__ = (sa.Index("ux_fact_effect_key", "effect_key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    text: str = Field(max_length=FACT_MAX_CHARS)
    vector: list[float] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    vector_model: str | None = Field(default=None, max_length=128)
    created_at: datetime = instant()
    effect_key: str | None = Field(default=None, max_length=255)


class ChatSummary(SQLModel, table=True):
    """The running summary of a chat's history up to (and including) two marker ids.

    It belongs to the chat's history epoch (`history_from_at`); after a /reset the epoch moves and
    the summary no longer counts.
    """

    chat_id: int = Field(foreign_key="chat.id", primary_key=True)
    text: str = ""
    history_from_at: datetime | None = instant(nullable=True)
    through_message_id: int = 0
    through_reply_id: int = 0
    folds: int = 0
    updated_at: datetime = instant()


class Pairing(SQLModel, table=True):
    """One stranger's request to talk to Hearth: `pending` with a code, then `approved` or `revoked`."""

    __table_args__ = (sa.Index("ix_pairing_status_address", "status", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int | None = Field(default=None, foreign_key="chat.id")
    address: str = Field(max_length=255)
    other_address: str | None = Field(default=None, max_length=255)
    code: str | None = Field(default=None, max_length=16, index=True)
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = instant()
    expires_at: datetime | None = instant(nullable=True)
    decided_at: datetime | None = instant(nullable=True)
    # The policy an approved person acts with: `member`, or a named one from policy.toml.
    policy: str = Field(default="member", max_length=16, sa_column_kwargs={"server_default": "member"})


class Run(SQLModel, table=True):
    """One agent run. A member belongs to the turn its lead runs in: the chat's turn started at
    `turn_started_at` (the turn row is written when it closes, so `turn_id` is filled in then)."""

    __table_args__ = (sa.Index("ix_run_chat_turn_started", "chat_id", "turn_started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    turn_id: int | None = Field(default=None, foreign_key="turn.id", index=True)
    chat_id: int = Field(foreign_key="chat.id")
    turn_started_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    parent_id: int | None = Field(default=None, foreign_key="run.id")
    depth: int = 0
    role: str = Field(max_length=32)
    task: str = ""
    model: str = Field(default="", max_length=128)
    status: str = Field(default="running", max_length=16)
    error: str | None = None
    started_at: datetime = Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=True))
    duration_ms: int | None = None
    steps: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0
    tool_calls: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False)
    )


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
    sent_at: datetime = instant()


class MediaFile(SQLModel, table=True):
    """A file a person sent (on a message) or Hearth sends (on a reply), kept under the data directory
    per chat; `path` is relative to the media directory. Rows and files go after the keep period."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    reply_id: int | None = Field(default=None, foreign_key="reply.id", index=True)
    kind: str = Field(max_length=16)
    mime: str = Field(max_length=128)
    name: str = Field(max_length=255)
    path: str = Field(max_length=512)
    size: int = 0
    voice: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False, index=True)
    )


class Approval(SQLModel, table=True):
    """One tool call held back until the person answers: `pending`, then `approved` (running),
    `done` or `failed`; or `denied`, or `expired` when nobody answered in time.

    `call_key` is the held-back call's own key (`m17:2`), so a replayed turn asks once, and the
    approved call keys its effect by it. `code` is what the person types: `/yes CODE`.
    """

    __table_args__ = (
        sa.Index("ix_approval_status_expires", "status", "expires_at"),
        sa.Index("ux_approval_call_key", "call_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, index=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    call_key: str = Field(max_length=255)
    tool: str = Field(max_length=128)
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    reason: str = ""
    role: str = Field(default="member", max_length=16)
    requested_by: str = Field(default="", max_length=255)
    status: str = Field(default="pending", max_length=16)
    requested_at: datetime = instant()
    expires_at: datetime = instant()
    decided_at: datetime | None = instant(nullable=True)
    decided_by: str | None = Field(default=None, max_length=255)
    outcome: str | None = None
