"""Two schedulers firing one due job at the same moment, on SQLite and on PostgreSQL: it runs once."""

from __future__ import annotations

import asyncio
import signal
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.store import Store
from tests.jobs.scheduling import FakeClock, Harness, job_messages, replies, sqlite_locked
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

START_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
HOLD_S = 0.5


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'h.db'}"
    return str(request.getfixturevalue("postgres_url"))


@contextmanager
def writes_held(url: str, job_id: int) -> Iterator[None]:
    """Hold up every write to the job (SQLite: the file's write lock; PostgreSQL: the row's lock)
    while reads go on, so that both schedulers have read the due job before either may claim it."""
    if url.startswith("sqlite"):
        with sqlite_locked(Path(url.removeprefix("sqlite:///"))):
            yield
        return
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.text("SELECT id FROM job WHERE id = :id FOR UPDATE"), {"id": job_id})
            yield
    finally:
        engine.dispose()


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[tuple[Store, Store]]:
    first, second = await Store.open(database_url), await Store.open(database_url)
    yield first, second
    await first.close()
    await second.close()


@pytest.mark.parametrize("kind", ["reminder", "task"])
async def test_two_schedulers_firing_one_due_time_at_once_run_it_once(
    database_url: str, stores: tuple[Store, Store], kind: str
) -> None:
    first = Harness(stores[0], FakeClock(START_AT))
    chat_id = await first.chat()
    job = await first.add(chat_id, kind="task" if kind == "task" else "reminder", every="1h")
    assert job.id is not None
    second = Harness(stores[1], FakeClock(START_AT))
    first.clock.now = second.clock.now = START_AT + timedelta(hours=1)
    with writes_held(database_url, job.id):
        both = asyncio.gather(first.service.fire(job.id), second.service.fire(job.id))
        await asyncio.sleep(HOLD_S)
        assert not both.done()
    fired = await both
    assert sorted(fired) == [False, True]
    rows = await (job_messages if kind == "task" else replies)(stores[0], chat_id)
    assert len(rows) == 1


FIRE = """
import asyncio, sys
from datetime import datetime
from assistant.jobs.service import JobService
from assistant.store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1])
    now = datetime.fromisoformat(sys.argv[2])
    service = JobService(store, clock=lambda: now, notify=lambda _: None, wake=lambda: None)
    print("firing", flush=True)
    await service.fire(int(sys.argv[3]))

asyncio.run(main())
"""


async def test_a_scheduler_killed_while_firing_leaves_the_due_time_to_the_next(
    database_url: str, stores: tuple[Store, Store]
) -> None:
    h = Harness(stores[0], FakeClock(START_AT))
    chat_id = await h.chat()
    job = await h.add(chat_id, every="1h")
    assert job.id is not None
    due_at = START_AT + timedelta(hours=1)
    with writes_held(database_url, job.id):
        firing = await asyncio.create_subprocess_exec(
            sys.executable, "-c", FIRE, database_url, due_at.isoformat(), str(job.id), stdout=PIPE
        )
        assert firing.stdout is not None
        assert await asyncio.wait_for(firing.stdout.readline(), 20) == b"firing\n"
        await asyncio.sleep(HOLD_S)  # now it waits to claim the due time
        firing.kill()
        assert await firing.wait() == -signal.SIGKILL
    h.clock.now = due_at
    assert await h.service.fire(job.id) is True
    assert [r.meta["due_at"] for r in await replies(stores[0], chat_id)] == [due_at.isoformat()]
