"""What became of a task's run: success resets its failures; a failed run is retried, then reported."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from assistant.jobs.rules import preview
from assistant.store import Store
from assistant.store.tables import Job, Message, Reply

TurnStatus = str  # "handled", "failed" or "deferred", as the pipeline reports it
RETRY_DELAYS_S = (60.0, 300.0, 900.0)
TELL_AFTER_FAILURES = 3


def retry_delay_s(failed_attempts: int) -> float | None:
    """How long after its `failed_attempts`-th failure a run is tried again; None: give up."""
    if 1 <= failed_attempts <= len(RETRY_DELAYS_S):
        return RETRY_DELAYS_S[failed_attempts - 1]
    return None


def failure_notice(job: Job) -> str:
    return (
        f'Your scheduled task #{job.id} "{preview(job.text)}" has failed {job.consecutive_failures} times '
        "in a row: the assistant's model is not answering. I keep retrying it and will run it at its "
        "next times; send /jobs to see it."
    )


def job_id_of(message: Message) -> int | None:
    raw = message.meta.get("job_id") if message.kind == "job" else None
    return int(raw) if raw and raw.isdigit() else None


async def record(store: Store, messages: Sequence[Message], status: TurnStatus, now: datetime) -> bool:
    """Record the turn's outcome on the jobs of its `job` messages; True when a notice was written.

    Runs after the pipeline has closed (`handled`, `failed`) or deferred (`deferred`) the turn,
    so a deferred message's `attempts` already counts this failure.
    """

    def write(session: Session) -> bool:
        wrote = False
        for message in messages:
            job_id = job_id_of(message)
            job = session.get(Job, job_id) if job_id is not None else None
            if job is None or message.id is None:
                continue
            if status == "handled":
                job.consecutive_failures, job.retry_at = 0, None
                job.last_outcome = "late" if message.meta.get("late") == "yes" else "ok"
                continue
            wrote |= _failed(session, job, message.id, status, now)
        return wrote

    return await store.write(write)


def _failed(session: Session, job: Job, message_id: int, status: TurnStatus, now: datetime) -> bool:
    message = session.get(Message, message_id)
    assert message is not None
    job.consecutive_failures += 1
    delay_s = retry_delay_s(message.attempts) if status == "deferred" else None
    if delay_s is not None:
        job.retry_at = message.next_attempt_at = now + timedelta(seconds=delay_s)
        job.last_outcome = "retrying"
    else:
        job.retry_at, job.last_outcome = None, "failed"
        if message.status == "accepted":
            message.status, message.handled_at, message.next_attempt_at = "failed", now, None
    if job.consecutive_failures != TELL_AFTER_FAILURES:
        return False
    session.add(Reply(chat_id=job.chat_id, text=failure_notice(job), meta={"kind": "notice"}, created_at=now))
    return True
