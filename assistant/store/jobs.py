"""Queries on the job table: scheduled reminders and tasks, the truth the scheduler is rebuilt from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant.store import Store
from assistant.store.tables import Job

JobKind = Literal["reminder", "task"]
Outcome = Literal["ok", "late", "missed", "failed", "retrying"]


async def add(store: Store, job: Job) -> Job:
    """Insert `job`; it comes back with its id. A job with the same `effect_key` already stored
    (the same tool call, replayed) comes back instead, and nothing is inserted."""

    def insert(session: Session) -> Job:
        if job.effect_key is not None:
            existing = session.exec(select(Job).where(Job.effect_key == job.effect_key)).first()
            if existing is not None:
                return existing
        session.add(job)
        session.flush()
        return job

    return await store.write(insert)


async def get(store: Store, job_id: int) -> Job | None:
    return await store.read(lambda s: s.get(Job, job_id))


async def for_chat(store: Store, chat_id: int) -> list[Job]:
    """The chat's jobs that are not cancelled, oldest first."""
    query = select(Job).where(Job.chat_id == chat_id, col(Job.cancelled_at).is_(None)).order_by(col(Job.id))
    return await store.read(lambda s: list(s.exec(query)))


async def listing(store: Store, chat_ids: Sequence[int] | None = None) -> list[Job]:
    """Every job that is not cancelled, optionally only those of `chat_ids`, oldest first."""
    query = select(Job).where(col(Job.cancelled_at).is_(None)).order_by(col(Job.id))
    if chat_ids is not None:
        query = query.where(col(Job.chat_id).in_(chat_ids))
    return await store.read(lambda s: list(s.exec(query)))


@dataclass(frozen=True)
class Armed:
    """What the scheduler needs to arm a job: a light row, read quickly for many jobs at start. Its
    trigger fields have the job row's names."""

    id: int
    trigger_kind: str
    trigger_value: str
    timezone: str
    anchor_at: datetime
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
        return [Armed(i or 0, k, v, tz, a, n) for i, k, v, tz, a, n in rows if n is not None]

    return await store.read(armed)


async def overdue(store: Store, before: datetime) -> list[int]:
    """The live jobs (not cancelled, not paused) whose stored next run is at or before `before`."""
    query = sa.select(col(Job.id)).where(
        col(Job.cancelled_at).is_(None), col(Job.paused).is_(False), col(Job.next_run_at) <= before
    )
    return await store.read(lambda s: [int(i or 0) for i in s.connection().execute(query).scalars()])


async def update(store: Store, job_id: int, **values: object) -> Job | None:
    """Set fields of one job; None when there is no such job."""

    def change(session: Session) -> Job | None:
        job = session.get(Job, job_id)
        if job is None:
            return None
        for name, value in values.items():
            setattr(job, name, value)
        return job

    return await store.write(change)


def claim(session: Session, job_id: int, due_at: datetime, **values: object) -> bool:
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
    result = session.exec(query)
    return bool(result.rowcount == 1)


async def approved_tools(store: Store, job_ids: Sequence[int]) -> list[frozenset[str]]:
    """The tools each of the jobs was approved to use unattended (a missing job: none)."""
    query = select(Job).where(col(Job.id).in_(job_ids))
    found = {job.id: frozenset(job.approved_tools) for job in await store.read(lambda s: list(s.exec(query)))}
    return [found.get(job_id, frozenset()) for job_id in job_ids]


async def pause_chat(store: Store, chat_id: int) -> int:
    """Pause every live job of the chat (it lost access); how many were paused."""
    query = (
        sa.update(Job)
        .where(col(Job.chat_id) == chat_id, col(Job.cancelled_at).is_(None), col(Job.paused).is_(False))
        .values(paused=True)
    )
    return await store.write(lambda s: int(s.exec(query).rowcount))
