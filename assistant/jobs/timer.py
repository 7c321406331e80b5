"""What wakes the scheduler at due times: APScheduler 3.x in Hearth, a manual timer in tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from assistant.jobs.triggers import TriggerSpec, next_run


class SpecTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler trigger whose due times are exactly `next_run`'s."""

    __slots__ = ("spec",)

    def __init__(self, spec: TriggerSpec) -> None:
        self.spec = spec

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """After the previous due time; or, for a fresh job, the first due time at or after now."""
        if previous_fire_time is not None:
            return next_run(self.spec, previous_fire_time)
        return next_run(self.spec, now - timedelta(microseconds=1))

    def __str__(self) -> str:
        return f"{self.spec.kind}[{self.spec.value} {self.spec.timezone}]"


class Timer(Protocol):
    """What wakes the scheduler at due times: APScheduler in Hearth, a manual one in tests."""

    def put(self, job_id: int, spec: TriggerSpec, next_at: datetime) -> None: ...

    def later(self, job_id: int, at: datetime) -> None:
        """Fire the job once at `at` instead of its due times, until `put` or `drop` says otherwise."""

    def drop(self, job_id: int) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


SWEEP_ID = "sweep"
# One run at a time, late runs coalesced, never dropped as misfired: the job table decides what is missed.
# Given with each job rather than left to the defaults: it saves APScheduler a step per job.
ONE_AT_A_TIME: dict[str, object] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class ApsTimer:
    """APScheduler 3.x in memory: nothing pickled, every late due time still runs, never two at once;
    with `sweep`, that is also called every `sweep_interval_s`."""

    def __init__(
        self,
        fire: Callable[[int], Awaitable[object]],
        sweep: Callable[[], Awaitable[object]] | None = None,
        sweep_interval_s: float = 60.0,
    ) -> None:
        self._fire = fire
        self._sweep = sweep
        self._sweep_interval_s = sweep_interval_s
        self.scheduler = AsyncIOScheduler(timezone="UTC", job_defaults=ONE_AT_A_TIME)

    def put(self, job_id: int, spec: TriggerSpec, next_at: datetime) -> None:
        self.scheduler.add_job(
            self._fire,
            SpecTrigger(spec),
            args=[job_id],
            id=str(job_id),
            next_run_time=next_at,
            replace_existing=True,
            **ONE_AT_A_TIME,
        )

    def later(self, job_id: int, at: datetime) -> None:
        self.scheduler.add_job(
            self._fire,
            DateTrigger(at),
            args=[job_id],
            id=str(job_id),
            replace_existing=True,
            **ONE_AT_A_TIME,
        )

    def drop(self, job_id: int) -> None:
        with suppress(JobLookupError):
            self.scheduler.remove_job(str(job_id))

    def start(self) -> None:
        if self._sweep is not None:
            every = IntervalTrigger(seconds=self._sweep_interval_s)
            self.scheduler.add_job(self._sweep, every, id=SWEEP_ID, coalesce=True, max_instances=1)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
