"""The scheduler: our job table rebuilt into APScheduler triggers at start, and each due time fired once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from assistant.backoff import doubling_s
from assistant.jobs import outcomes
from assistant.jobs.rows import MISSED_NOW_HEADER, job_row, missed_line, notice, run_now_row
from assistant.jobs.rules import Action, owned
from assistant.jobs.rules import change as change_job
from assistant.jobs.timer import ApsTimer, Timer
from assistant.jobs.triggers import catch_up, spec_of
from assistant.pipeline import TurnEnd
from assistant.store import Store, jobs
from assistant.store.jobs import Armed
from assistant.store.tables import Chat, Job

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A run this long after its due time says it is late.
LATE_AFTER = timedelta(seconds=60)
# A due time this long past without a run had its timer lost: the sweep runs it.
SWEEP_SLACK = timedelta(seconds=30)
RETRY_MAX_S = 60.0


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
        retry_s: float = 1.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.notify = notify
        self.wake = wake
        self._timer_given = timer
        self.timer: Timer = timer or ApsTimer(self.fire, self.sweep)
        # Whether this process runs the timers; with replicas, only the scheduler leader does, and
        # the others `announce` each job they change so the leader arms it.
        self.leading = True
        self.announce: Callable[[int], Awaitable[None]] | None = None
        # Whether a chat may still have its jobs run (its person has access); None: always.
        self.may_fire = may_fire
        self.retry_s = retry_s
        # Failed fires in a row of each job now waiting for a retry.
        self.failures: dict[int, int] = {}

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

    async def lead(self) -> int:
        """Become the process that runs the timers (the scheduler leader): `start`."""
        self.leading = True
        return await self.start()

    def follow(self) -> None:
        """Stop running the timers (leadership lost); a fresh timer waits for the next `lead`."""
        self.leading = False
        self.timer.stop()
        self.failures.clear()
        self.timer = self._timer_given or ApsTimer(self.fire, self.sweep)

    def arm(self, job: Job) -> None:
        """Make the timer agree with the row: armed while live, dropped otherwise."""
        assert job.id is not None
        if not self.leading:
            return
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
        claimed = True
        if plan.late_due_at is not None:
            claimed = await self._run(job, plan.late_due_at, now, plan.next_due_at, late=True)
        elif plan.last_missed_at is not None:
            job_id, missed_at = job.id, plan.last_missed_at
            values = {"last_outcome": "missed", "next_run_at": plan.next_due_at}
            claimed = await self.store.write(lambda s: jobs.claim(s, job_id, missed_at, **values))
        # Told by the one that claimed the times (two leaders for a moment both catch up).
        if plan.missed_count and claimed:
            missed.setdefault(job.chat_id, []).append(missed_line(job, plan))
        if plan.next_due_at is not None:
            self.timer.put(job.id, spec_of(job), plan.next_due_at)

    async def _tell_missed(self, missed: dict[int, list[str]], now: datetime) -> None:
        if not missed:
            return
        notices = [notice(chat_id, lines, now) for chat_id, lines in missed.items()]
        await self.store.write(lambda s: s.add_all(notices))
        self.wake()

    async def fire(self, job_id: int) -> bool:
        """Run the job's due time if it has come and no one ran it yet; True when this call did.

        A failure (the database locked by another process, a lost PostgreSQL connection) is logged
        and the job tried again after a doubling wait, until it runs or its due time is past the
        job's grace and recorded missed. Several due times passed run once, late.
        """
        return await self._attempt(job_id, rearm=job_id in self.failures)

    async def sweep(self) -> int:
        """Try every live job whose due time passed SWEEP_SLACK ago without a run (its timer lost, or
        the job made by another process), and arm it again; how many ran."""
        try:
            overdue = await jobs.overdue(self.store, self.clock() - SWEEP_SLACK)
        except Exception:
            logger.exception("looking for overdue jobs failed; trying again at the next sweep")
            return 0
        ran = 0
        for job_id in overdue:
            if job_id not in self.failures:  # else its retry is already armed
                ran += await self._attempt(job_id, rearm=True)
        if ran:
            logger.warning("the sweep ran %d jobs whose timers were lost", ran)
        return ran

    async def _attempt(self, job_id: int, *, rearm: bool) -> bool:
        try:
            ran, job = await self._fire(job_id, self.clock())
        except Exception:
            failures = self.failures[job_id] = self.failures.get(job_id, 0) + 1
            delay_s = doubling_s(failures, self.retry_s, RETRY_MAX_S)
            logger.exception(
                "job %s failed to fire (%d in a row); trying again in %.1f s", job_id, failures, delay_s
            )
            self.timer.later(job_id, self.clock() + timedelta(seconds=delay_s))
            return False
        self.failures.pop(job_id, None)
        if job is None or not job.active:
            self.timer.drop(job_id)
        elif rearm:
            self.arm(job)
        return ran

    async def _fire(self, job_id: int, now: datetime) -> tuple[bool, Job | None]:
        """One try, in one transaction: whether it ran, and the job as it is now (None: gone)."""
        if not await self._may_fire(job_id):
            return False, None

        def fire(session: Session) -> tuple[bool, bool, Job | None]:
            job = session.get(Job, job_id)
            if job is None or not job.active or job.next_run_at is None or job.next_run_at > now:
                return False, False, job
            ran, missed = self._due(session, job, now)
            session.refresh(job)
            return ran, missed, job

        ran, missed, job = await self.store.write(fire)
        if ran and job is not None:
            self._after(job, job.next_run_at)
        elif missed:
            self.wake()
        return ran, job

    def _due(self, session: Session, job: Job, now: datetime) -> tuple[bool, bool]:
        """Run the latest due time from the stored next run on that is within the grace, or record
        them missed and tell the chat; (ran, missed)."""
        assert job.id is not None
        assert job.next_run_at is not None
        passed_from = job.next_run_at - timedelta(microseconds=1)
        plan = catch_up(spec_of(job), passed_from, now, job.grace_s)
        if plan.late_due_at is not None:
            late = now - plan.late_due_at > LATE_AFTER
            return self._claim(session, job, plan.late_due_at, now, plan.next_due_at, late=late), False
        if plan.last_missed_at is None:
            return False, False
        values = {"last_outcome": "missed", "next_run_at": plan.next_due_at}
        if not jobs.claim(session, job.id, plan.last_missed_at, **values):
            return False, False
        logger.warning("job %s missed its time %s: too late to run now", job.id, plan.last_missed_at)
        session.add(notice(job.chat_id, [missed_line(job, plan)], now, MISSED_NOW_HEADER))
        return False, True

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
        session.add(job_row(job, chat, due_at, now, late))
        return True

    def _after(self, job: Job, next_at: datetime | None) -> None:
        assert job.id is not None
        if next_at is None:
            self.timer.drop(job.id)
        if job.kind == "reminder":
            self.wake()
        else:
            self.notify(job.chat_id)

    async def outcome(self, end: TurnEnd) -> None:
        """The pipeline's listener: record a closed or deferred turn on the jobs it ran."""
        if not any(outcomes.job_id_of(m) is not None for m in end.messages):
            return
        try:
            if await outcomes.record(self.store, end.messages, end.status, self.clock()):
                self.wake()
        except Exception:
            logger.exception("recording the outcome of a scheduled task failed")

    async def add(self, job: Job) -> Job:
        """Store a new job and arm it; the row comes back with its id."""
        stored = await jobs.add(self.store, job)
        await self._changed(stored)
        return stored

    async def _changed(self, job: Job) -> None:
        """Arm the job here, or tell the leader when another replica leads (if that fails, the
        leader's sweep still finds the job once it falls due)."""
        self.arm(job)
        try:
            if self.announce is not None and job.id is not None:
                await self.announce(job.id)
        except Exception:
            logger.exception("telling the scheduler leader of job %s failed", job.id)

    async def change(self, job_id: int, chat_id: int | None, action: Action) -> Job:
        """Cancel, pause or resume a job the chat owns; JobNotFound otherwise."""
        job = await change_job(self.store, job_id, chat_id, action, self.clock())
        await self._changed(job)
        return job

    async def run_now(self, job_id: int) -> Job:
        """Run a live job once now, beside its schedule: its due times stay as they were. JobNotFound
        when there is no such job or it was cancelled."""
        job, now = await owned(self.store, job_id, None), self.clock()
        ran = await self.store.write(lambda s: run_now_row(s, job_id, job.chat_id, now))
        if ran.kind == "reminder":
            self.wake()
        else:
            self.notify(ran.chat_id)
        return ran
