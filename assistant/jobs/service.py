"""The scheduler: our job table rebuilt into APScheduler triggers at start, and each due time fired once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlmodel import Session

from assistant.jobs import outcomes
from assistant.jobs.rules import Action, line, owned
from assistant.jobs.rules import change as change_job
from assistant.jobs.timer import ApsTimer, Timer
from assistant.jobs.triggers import CatchUp, catch_up, next_run, spec_of
from assistant.jobs.when import format_when
from assistant.pipeline import TurnEnd
from assistant.store import Store, jobs
from assistant.store.jobs import Armed
from assistant.store.tables import Chat, Job, Message, Reply

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
NOTICE = {"kind": "notice"}
MISSED_HEADER = "While I was not running, these jobs missed their time (too late to run now):"


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


class JobService:
    """Fires due jobs: a reminder's text straight into the outbox, a task into the chat's inbox."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        notify: Callable[[int], None],
        wake: Callable[[], None],
        timer: Timer | None = None,
        may_fire: Callable[[int], Awaitable[bool]] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.notify = notify
        self.wake = wake
        self.timer: Timer = timer or ApsTimer(self.fire)
        # Whether a chat may still have its jobs run (its person has access); None: always.
        self.may_fire = may_fire

    async def start(self) -> int:
        """Catch up on due times passed while down, then arm every live job; returns how many."""
        now = self.clock()
        missed: dict[int, list[str]] = {}
        live = await jobs.schedulable(self.store)
        for job in live:
            await self._catch_up(job, now, missed)
        await self._tell_missed(missed, now)
        self.timer.start()
        return len(live)

    def stop(self) -> None:
        self.timer.stop()

    def arm(self, job: Job) -> None:
        """Make the timer agree with the row: armed while live, dropped otherwise."""
        assert job.id is not None
        if job.active and job.next_run_at is not None:
            self.timer.put(job.id, spec_of(job), job.next_run_at)
        else:
            self.timer.drop(job.id)

    async def _catch_up(self, armed: Armed, now: datetime, missed: dict[int, list[str]]) -> None:
        if armed.next_run_at > now:
            # The stored next run is the first due time after the last one handled: nothing passed.
            self.timer.put(armed.id, spec_of(armed), armed.next_run_at)
            return
        job = await jobs.get(self.store, armed.id)
        assert job is not None
        assert job.id is not None
        plan = catch_up(spec_of(job), job.last_due_at, now, job.grace_s)
        if plan.late_due_at is not None:
            await self._run(job, plan.late_due_at, now, plan.next_due_at, late=True)
        elif plan.last_missed_at is not None:
            job_id, missed_at = job.id, plan.last_missed_at
            values = {"last_outcome": "missed", "next_run_at": plan.next_due_at}
            await self.store.write(lambda s: jobs.claim(s, job_id, missed_at, **values))
        if plan.missed_count:
            missed.setdefault(job.chat_id, []).append(missed_line(job, plan))
        if plan.next_due_at is not None:
            self.timer.put(job.id, spec_of(job), plan.next_due_at)

    async def _tell_missed(self, missed: dict[int, list[str]], now: datetime) -> None:
        if not missed:
            return
        notices = [
            Reply(
                chat_id=chat_id,
                text="\n".join([MISSED_HEADER, *lines]),
                meta={"kind": "notice"},
                created_at=now,
            )
            for chat_id, lines in missed.items()
        ]
        await self.store.write(lambda s: s.add_all(notices))
        self.wake()

    async def fire(self, job_id: int) -> bool:
        """Run the job's stored due time if it has come and no one ran it yet; True when this call did."""
        try:
            return await self._fire(job_id, self.clock())
        except Exception:
            logger.exception("job %s failed to fire", job_id)
            return False

    async def _fire(self, job_id: int, now: datetime) -> bool:
        if not await self._may_fire(job_id):
            return False

        def fire(session: Session) -> tuple[Job | None, datetime | None, bool]:
            job = session.get(Job, job_id)
            if job is None or not job.active or job.next_run_at is None:
                return None, None, False
            if job.next_run_at > now:
                return job, None, False
            due_at, next_at = job.next_run_at, next_run(spec_of(job), now)
            return job, next_at, self._claim(session, job, due_at, now, next_at, late=False)

        job, next_at, ran = await self.store.write(fire)
        if job is None:
            self.timer.drop(job_id)
        elif ran:
            self._after(job, next_at)
        return ran

    async def _may_fire(self, job_id: int) -> bool:
        """False, with the job paused, when its chat has lost access since the job was made."""
        job = await jobs.get(self.store, job_id)
        if self.may_fire is None or job is None or await self.may_fire(job.chat_id):
            return True
        logger.warning("job %s paused: chat %s has no access any more", job_id, job.chat_id)
        await jobs.update(self.store, job_id, paused=True)
        self.timer.drop(job_id)
        return False

    async def _run(
        self, job: Job, due_at: datetime, now: datetime, next_at: datetime | None, *, late: bool
    ) -> bool:
        ran = await self.store.write(lambda s: self._claim(s, job, due_at, now, next_at, late=late))
        if ran:
            self._after(job, next_at)
        return ran

    def _claim(
        self,
        session: Session,
        job: Job,
        due_at: datetime,
        now: datetime,
        next_at: datetime | None,
        *,
        late: bool,
    ) -> bool:
        """In the caller's transaction: claim the due time, then write its reply or its message."""
        assert job.id is not None
        values: dict[str, object] = {"next_run_at": next_at, "last_run_at": now}
        if job.kind == "reminder":
            values["last_outcome"] = "late" if late else "ok"
        if not jobs.claim(session, job.id, due_at, **values):
            return False
        chat = session.get(Chat, job.chat_id)
        assert chat is not None
        session.add(self._row(job, chat, due_at, now, late))
        return True

    def _after(self, job: Job, next_at: datetime | None) -> None:
        assert job.id is not None
        if next_at is None:
            self.timer.drop(job.id)
        if job.kind == "reminder":
            self.wake()
        else:
            self.notify(job.chat_id)

    def _row(self, job: Job, chat: Chat, due_at: datetime, now: datetime, late: bool) -> Reply | Message:
        meta = {"job_id": str(job.id), "due_at": due_at.isoformat(), "late": "yes" if late else "no"}
        if job.kind == "reminder":
            return Reply(
                chat_id=job.chat_id, text=reminder_text(job, due_at, late), meta=meta, created_at=now
            )
        return Message(
            chat_id=job.chat_id,
            channel=chat.channel,
            provider_id=f"job:{job.id}:{due_at.isoformat()}",
            kind="job",
            text=task_text(job, due_at, late),
            meta=meta,
            created_at=now,
        )

    async def outcome(self, end: TurnEnd) -> None:
        """The pipeline's listener: record a closed or deferred turn on the jobs it ran."""
        messages, status = end.messages, end.status
        if not any(outcomes.job_id_of(m) is not None for m in messages):
            return
        try:
            if await outcomes.record(self.store, messages, status, self.clock()):
                self.wake()
        except Exception:
            logger.exception("recording the outcome of a scheduled task failed")

    async def add(self, job: Job) -> Job:
        """Store a new job and arm it; the row comes back with its id."""
        stored = await jobs.add(self.store, job)
        self.arm(stored)
        return stored

    async def change(self, job_id: int, chat_id: int | None, action: Action) -> Job:
        """Cancel, pause or resume a job the chat owns; JobNotFound otherwise."""
        job = await change_job(self.store, job_id, chat_id, action, self.clock())
        self.arm(job)
        return job

    async def run_now(self, job_id: int) -> Job:
        """Run a live job once now, beside its schedule: its due times stay as they were. JobNotFound
        when there is no such job or it was cancelled."""
        job = await owned(self.store, job_id, None)
        now = self.clock()

        def write(session: Session) -> Job:
            row = session.get(Job, job_id)
            chat = session.get(Chat, job.chat_id)
            assert row is not None
            assert chat is not None
            added = self._row(row, chat, now, now, late=False)
            if isinstance(added, Message):
                # Unique beside the scheduled runs' ids (job:ID:due time).
                added.provider_id = f"job:{job_id}:now:{now.isoformat()}"
            session.add(added)
            row.last_run_at = now
            return row

        ran = await self.store.write(write)
        if ran.kind == "reminder":
            self.wake()
        else:
            self.notify(ran.chat_id)
        return ran
