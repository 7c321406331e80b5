"""A job service on a real SQLite file with a hand-driven clock and timer, for scheduler tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from assistant.jobs.rules import new_job
from assistant.jobs.service import JobService
from assistant.jobs.triggers import TriggerSpec, parse_trigger
from assistant.store import Store, jobs
from assistant.store.inbox import chat_for
from assistant.store.jobs import JobKind
from assistant.store.tables import Job, Message, Reply


class FakeClock:
    """Time stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class ManualTimer:
    """Records what APScheduler would be asked to do; `due` says which jobs would have fired."""

    armed: dict[int, datetime] = field(default_factory=dict)
    running: bool = False

    def put(self, job_id: int, spec: TriggerSpec, next_at: datetime) -> None:
        self.armed[job_id] = next_at

    def later(self, job_id: int, at: datetime) -> None:
        self.armed[job_id] = at

    def drop(self, job_id: int) -> None:
        self.armed.pop(job_id, None)

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False


@dataclass
class Harness:
    store: Store
    clock: FakeClock
    timer: ManualTimer = field(default_factory=ManualTimer)
    notified: list[int] = field(default_factory=list)
    wakes: int = 0
    service: JobService = field(init=False)

    def __post_init__(self) -> None:
        self.service = JobService(
            self.store, clock=self.clock, notify=self.notified.append, wake=self._wake, timer=self.timer
        )

    def _wake(self) -> None:
        self.wakes += 1

    async def chat(self, address: str = "api:ann", timezone: str | None = None) -> int:
        def make(session: Session) -> int:
            chat = chat_for(session, "api", address, self.clock())
            chat.timezone = timezone
            assert chat.id is not None
            return chat.id

        return await self.store.write(make)

    async def add(
        self,
        chat_id: int,
        text: str = "stretch",
        *,
        kind: JobKind = "reminder",
        at: str | None = None,
        every: str | None = None,
        cron: str | None = None,
        timezone: str = "UTC",
        grace_s: float = 3600,
    ) -> Job:
        spec = parse_trigger(at, every, cron, timezone, self.clock())
        return await self.service.add(new_job(chat_id, kind, text, spec, grace_s, "test"))

    async def run_until(self, until: datetime) -> None:
        """Move the clock through every armed due time up to `until`, firing each as APScheduler would."""
        while (due := [(at, i) for i, at in self.timer.armed.items() if at <= until]) != []:
            at, job_id = min(due)
            self.clock.now = at
            await self.service.fire(job_id)
            if self.timer.armed.get(job_id, at) != at:  # the service set the timer itself (a retry)
                continue
            job = await jobs.get(self.store, job_id)
            assert job is not None
            if job.next_run_at == at:  # not fired (paused, cancelled, claimed elsewhere): stop here
                self.timer.drop(job_id)
            else:
                self.service.arm(job)
        self.clock.now = until


async def open_store(path: Path, busy_timeout_ms: int = 5000) -> Store:
    return await Store.open(f"sqlite:///{path}", busy_timeout_ms=busy_timeout_ms)


@contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Another process's write transaction on the file (a CLI, a backup): `BEGIN EXCLUSIVE` held
    until the block ends. Reads go on (WAL); writes wait for their busy timeout, then fail."""
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        lock.execute("COMMIT")
        lock.close()


async def replies(store: Store, chat_id: int) -> list[Reply]:
    query = select(Reply).where(Reply.chat_id == chat_id).order_by(col(Reply.id))
    return await store.read(lambda s: list(s.exec(query)))


async def job_messages(store: Store, chat_id: int) -> list[Message]:
    query = select(Message).where(Message.chat_id == chat_id, Message.kind == "job")
    return await store.read(lambda s: list(s.exec(query.order_by(col(Message.id)))))


def due_times(rows: list[Reply]) -> list[str]:
    """The due times of reminder replies, as UTC `HH:MM` on `MM-DD`."""
    found = [datetime.fromisoformat(r.meta["due_at"]) for r in rows if "due_at" in r.meta]
    return [f"{at:%m-%d %H:%M}" for at in found]
