"""Creating, changing and describing jobs: the rules the agent's tools, commands and the CLI share."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, Literal

from assistant.errors import HearthError
from assistant.jobs.triggers import TriggerError, TriggerSpec, interval_s, next_run, spec_of
from assistant.jobs.when import describe, format_when
from assistant.store import Store, jobs
from assistant.store.jobs import JobKind
from assistant.store.tables import Job

Action = Literal["cancel", "pause", "resume"]
PREVIEW_CHARS = 60
GAP_SAMPLES = 50


class JobNotFound(HearthError):
    """No live job with that id belongs to the chat asking."""


def new_job(
    chat_id: int, kind: JobKind, text: str, spec: TriggerSpec, grace_s: float, created_by: str
) -> Job:
    """A job row for `spec`, its first due time computed; TriggerError when it would never be due."""
    if not text.strip():
        raise TriggerError(f"the {'prompt' if kind == 'task' else 'text'} is empty")
    first_at = next_run(spec, spec.anchor_at)
    if first_at is None:
        raise TriggerError(f"cron {spec.value!r} never matches a real date")
    return Job(
        chat_id=chat_id,
        kind=kind,
        text=text.strip(),
        trigger_kind=spec.kind,
        trigger_value=spec.value,
        timezone=spec.timezone,
        anchor_at=spec.anchor_at,
        grace_s=grace_s,
        next_run_at=first_at,
        created_by=created_by,
        created_at=spec.anchor_at,
    )


def shortest_gap_s(spec: TriggerSpec) -> float | None:
    """The shortest time between two runs of a repeating trigger (None for a one-off `at`); for
    cron, the shortest gap among its next GAP_SAMPLES due times."""
    if spec.kind == "at":
        return None
    if spec.kind == "every":
        return float(interval_s(spec))
    times: list[datetime] = []
    after = spec.anchor_at
    while len(times) < GAP_SAMPLES and (due := next_run(spec, after)) is not None:
        times.append(due)
        after = due
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    return min(gaps, default=None)


def within_caps(spec: TriggerSpec, active: int, max_active: int, min_interval_s: float) -> None:
    """Raise TriggerError when a new job with `spec` would break the role's caps (0: no limit)."""
    if max_active and active >= max_active:
        raise TriggerError(f"this chat already has {active} active jobs, the most allowed; cancel one first")
    gap_s = shortest_gap_s(spec)
    if gap_s is not None and gap_s < min_interval_s:
        minutes = f"{min_interval_s / 60:g}"
        raise TriggerError(f"jobs may run at most every {minutes} minutes here; choose a longer interval")


async def owned(store: Store, job_id: int, chat_id: int | None) -> Job:
    """The live job `job_id`; with `chat_id`, only when that chat owns it. JobNotFound otherwise."""
    job = await jobs.get(store, job_id)
    if job is None or job.cancelled_at is not None or (chat_id is not None and job.chat_id != chat_id):
        raise JobNotFound(f"there is no job {job_id}" + (" in this chat" if chat_id is not None else ""))
    return job


def changes(job: Job, action: Action, now: datetime) -> dict[str, Any]:
    """The field values that cancel, pause or resume `job` at `now`.

    Resuming starts from now: due times that passed while paused are skipped, never reported missed.
    """
    if action == "cancel":
        return {"cancelled_at": now, "next_run_at": None, "retry_at": None}
    if action == "pause":
        return {"paused": True}
    floor = max(job.last_due_at or now, now)
    return {"paused": False, "last_due_at": floor, "next_run_at": next_run(spec_of(job), floor)}


async def change(store: Store, job_id: int, chat_id: int | None, action: Action, now: datetime) -> Job:
    """Apply `action` to a job the chat owns (any job when `chat_id` is None) and return the row."""
    job = await owned(store, job_id, chat_id)
    updated = await jobs.update(store, job_id, **changes(job, action, now))
    assert updated is not None
    return updated


def status(job: Job) -> str:
    if job.cancelled_at is not None:
        return "cancelled"
    if job.paused:
        return "paused"
    return "scheduled" if job.next_run_at is not None else "done"


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def summary(job: Job, timezone: str) -> dict[str, Any]:
    """What a tool answers about a job, read from its stored row; times in `timezone`."""
    next_at = job.next_run_at
    return {
        "id": job.id,
        "kind": job.kind,
        "text": job.text,
        "when": describe(spec_of(job)),
        "next_run": format_when(next_at, timezone) if next_at and not job.paused else None,
        "status": status(job),
        "last_outcome": job.last_outcome,
    }


def line(job: Job, timezone: str) -> str:
    """One line for people: `#3 reminder "Take pills" every day at 08:00 (Europe/Berlin); next Fri …`."""
    state = status(job)
    if state == "scheduled" and job.next_run_at is not None:
        state = f"next {format_when(job.next_run_at, timezone)}"
    outcome = f", last {job.last_outcome}" if job.last_outcome else ""
    return f'#{job.id} {job.kind} "{preview(job.text)}" {describe(spec_of(job))}; {state}{outcome}'
