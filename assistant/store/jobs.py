"""The job table: scheduled reminders and tasks, the truth the scheduler is rebuilt from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, cast

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from assistant.store.models import UTCDateTime, _instant
from assistant.store.store import Store
from assistant.triggers import TriggerKind, TriggerSpec

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

JobKind = Literal["reminder", "task"]
Outcome = Literal["ok", "late", "missed", "failed", "retrying"]


class Job(SQLModel, table=True):
    """One scheduled reminder (fixed text sent as is) or task (a prompt the agent runs).

    `last_due_at` is the latest due time fired or recorded as missed: no due time at or before it
    fires again. `cancelled_at` marks a soft delete; cancelled rows stay for the record.
    """

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    kind: str = Field(max_length=16)
    text: str
    trigger_kind: str = Field(max_length=8)
    trigger_value: str = Field(max_length=255)
    timezone: str = Field(max_length=64)
    anchor_at: datetime = _instant()
    grace_s: float = 3600.0
    next_run_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True, index=True)
    )
    last_due_at: datetime | None = _instant(nullable=True)
    last_run_at: datetime | None = _instant(nullable=True)
    last_outcome: str | None = Field(default=None, max_length=16)
    consecutive_failures: int = 0
    retry_at: datetime | None = _instant(nullable=True)
    paused: bool = False
    cancelled_at: datetime | None = _instant(nullable=True)
    created_by: str = Field(default="", max_length=255)
    created_at: datetime = _instant()

    @property
    def spec(self) -> TriggerSpec:
        """The row's trigger, as the pure due-time functions take it."""
        return _spec(self.trigger_kind, self.trigger_value, self.timezone, self.anchor_at)

    @property
    def active(self) -> bool:
        """Not cancelled, not paused, and with a due time ahead."""
        return self.cancelled_at is None and not self.paused and self.next_run_at is not None


async def add(store: Store, job: Job) -> Job:
    """Insert `job`; it comes back with its id."""
    async with store.transaction() as session:
        session.add(job)
        await session.flush()
    return job


async def get(store: Store, job_id: int) -> Job | None:
    async with store.session() as session:
        return await session.get(Job, job_id)


async def for_chat(store: Store, chat_id: int) -> list[Job]:
    """The chat's jobs that are not cancelled, oldest first."""
    query = select(Job).where(Job.chat_id == chat_id, col(Job.cancelled_at).is_(None)).order_by(col(Job.id))
    async with store.session() as session:
        return list(await session.exec(query))


async def listing(store: Store, chat_ids: Sequence[int] | None = None) -> list[Job]:
    """Every job that is not cancelled, optionally only those of `chat_ids`, oldest first."""
    query = select(Job).where(col(Job.cancelled_at).is_(None)).order_by(col(Job.id))
    if chat_ids is not None:
        query = query.where(col(Job.chat_id).in_(chat_ids))
    async with store.session() as session:
        return list(await session.exec(query))


@dataclass(frozen=True)
class Armed:
    """What the scheduler needs to arm a job: a light row, read quickly for many jobs at start."""

    id: int
    spec: TriggerSpec
    next_run_at: datetime


async def schedulable(store: Store) -> list[Armed]:
    """The jobs the scheduler must know at start: not cancelled, not paused, with a due time ahead."""
    query = sa.select(
        col(Job.id),
        col(Job.trigger_kind),
        col(Job.trigger_value),
        col(Job.timezone),
        col(Job.anchor_at),
        col(Job.next_run_at),
    ).where(col(Job.cancelled_at).is_(None), col(Job.paused).is_(False), col(Job.next_run_at).is_not(None))

    def armed(session: Session) -> list[Armed]:
        # Plain rows: building 10,000 ORM objects is slow.
        rows = session.connection().execute(query)
        return [Armed(i or 0, _spec(k, v, tz, a), n) for i, k, v, tz, a, n in rows if n is not None]

    return await store.read(armed)


def _spec(kind: str, value: str, timezone: str, anchor_at: datetime) -> TriggerSpec:
    return TriggerSpec(cast(TriggerKind, kind), value, timezone, anchor_at)


async def update(store: Store, job_id: int, **values: object) -> Job | None:
    """Set fields of one job; None when there is no such job."""
    async with store.transaction() as session:
        job = await session.get(Job, job_id)
        if job is None:
            return None
        for name, value in values.items():
            setattr(job, name, value)
        return job


async def claim(session: AsyncSession, job_id: int, due_at: datetime, **values: object) -> bool:
    """Mark `due_at` as handled for the job, only if no one has yet and the job is live.

    The condition makes firing idempotent across processes and restarts: of two claims for one
    due time, exactly one succeeds. Runs inside the caller's transaction.
    """
    query = (
        sa.update(Job)
        .where(
            col(Job.id) == job_id,
            sa.or_(col(Job.last_due_at).is_(None), col(Job.last_due_at) < due_at),
            col(Job.paused).is_(False),
            col(Job.cancelled_at).is_(None),
        )
        .values(last_due_at=due_at, **values)
    )
    result = await session.exec(query)
    return bool(result.rowcount == 1)
