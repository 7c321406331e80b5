"""What a due job writes: a reminder's reply or a task's message, and the notices of missed times."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from assistant.jobs.rules import line
from assistant.jobs.triggers import CatchUp
from assistant.jobs.when import format_when
from assistant.store.tables import Chat, Job, Message, Reply

MISSED_HEADER = "While I was not running, these jobs missed their time (too late to run now):"
MISSED_NOW_HEADER = "This job could not run in time and missed it (too late to run now):"


def reminder_text(job: Job, due_at: datetime, late: bool) -> str:
    if not late:
        return f"Reminder: {job.text}"
    return f"Reminder (late: it was due {format_when(due_at, job.timezone)}): {job.text}"


def task_text(job: Job, due_at: datetime, late: bool) -> str:
    """What the agent reads for a task's run: the prompt, marked as scheduled and maybe late."""
    note = ", running late" if late else ""
    return f"[Scheduled task {job.id}, due {format_when(due_at, job.timezone)}{note}] {job.text}"


def missed_line(job: Job, plan: CatchUp) -> str:
    assert plan.last_missed_at is not None
    times = "1 time" if plan.missed_count == 1 else f"{plan.missed_count} times"
    return (
        f"- {line(job, job.timezone)}: missed {times}, last {format_when(plan.last_missed_at, job.timezone)}"
    )


def notice(chat_id: int, lines: list[str], now: datetime, header: str = MISSED_HEADER) -> Reply:
    return Reply(chat_id=chat_id, text="\n".join([header, *lines]), meta={"kind": "notice"}, created_at=now)


def job_row(job: Job, chat: Chat, due_at: datetime, now: datetime, late: bool) -> Reply | Message:
    """The reply (reminder) or inbox message (task) for one run of the job at `due_at`."""
    meta = {"job_id": str(job.id), "due_at": due_at.isoformat(), "late": "yes" if late else "no"}
    if job.kind == "reminder":
        return Reply(chat_id=job.chat_id, text=reminder_text(job, due_at, late), meta=meta, created_at=now)
    return Message(
        chat_id=job.chat_id,
        channel=chat.channel,
        provider_id=f"job:{job.id}:{due_at.isoformat()}",
        kind="job",
        text=task_text(job, due_at, late),
        meta=meta,
        created_at=now,
    )


def run_now_row(session: Session, job_id: int, chat_id: int, now: datetime) -> Job:
    """In the caller's transaction: one run of the job now, beside its schedule; the job row."""
    row = session.get(Job, job_id)
    chat = session.get(Chat, chat_id)
    assert row is not None
    assert chat is not None
    added = job_row(row, chat, now, now, late=False)
    if isinstance(added, Message):
        # Unique beside the scheduled runs' ids (job:ID:due time).
        added.provider_id = f"job:{job_id}:now:{now.isoformat()}"
    session.add(added)
    row.last_run_at = now
    return row
