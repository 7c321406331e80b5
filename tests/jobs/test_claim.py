"""Two schedulers firing one due job at the same moment, on SQLite and on PostgreSQL: it runs once."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.store import Store
from tests.jobs.scheduling import FakeClock, Harness, job_messages, replies
from tests.store.test_postgres import postgres_url

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
        lock = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            lock.execute("COMMIT")
            lock.close()
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
