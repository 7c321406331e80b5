"""A fire that fails (the database locked by another process) is tried again until the job runs or
its due time is past the grace and recorded missed; a sweep runs due jobs whose timers were lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.backoff import doubling_s
from assistant.jobs.rules import new_job
from assistant.jobs.service import RETRY_MAX_S, JobService
from assistant.jobs.triggers import parse_trigger
from assistant.store import Store, jobs
from tests.channels.webhooks import until
from tests.jobs.scheduling import FakeClock, Harness, open_store, replies, sqlite_locked

START_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
DUE_AT = START_AT + timedelta(minutes=10)
BUSY_MS = 100  # how long a write waits for the lock before it fails


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "h.db", busy_timeout_ms=BUSY_MS)
    yield store
    await store.close()


@pytest.fixture
def h(store: Store) -> Harness:
    return Harness(store, FakeClock(START_AT))


@pytest.mark.parametrize(
    ("failures", "first_s", "delay_s"),
    [(1, 1.0, 1.0), (2, 1.0, 2.0), (4, 1.0, 8.0), (7, 1.0, 60.0), (500, 1.0, 60.0), (3, 0.1, 0.4)],
)
def test_retry_delays_double_up_to_a_minute(failures: int, first_s: float, delay_s: float) -> None:
    assert doubling_s(failures, first_s, RETRY_MAX_S) == pytest.approx(delay_s)


async def test_a_reminder_due_while_the_database_is_locked_runs_late_once_it_is_free(
    h: Harness, tmp_path: Path
) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, at=DUE_AT.isoformat(), grace_s=600)
    assert job.id is not None
    with sqlite_locked(tmp_path / "h.db"):
        await h.run_until(DUE_AT + timedelta(minutes=5))
        assert h.service.failures[job.id] >= 5
    assert await replies(h.store, chat_id) == []
    assert job.id in h.timer.armed  # the retry, though an `at` job's own timer is spent
    await h.run_until(DUE_AT + timedelta(minutes=7))
    [reply] = await replies(h.store, chat_id)
    assert reply.text == "Reminder (late: it was due Fri 27 Nov 2026, 07:10 UTC): stretch"
    row = await jobs.get(h.store, job.id)
    assert row is not None
    assert (row.last_outcome, row.next_run_at, h.timer.armed, h.service.failures) == ("late", None, {}, {})


async def test_locked_past_the_grace_the_due_time_is_recorded_missed_and_told(
    h: Harness, tmp_path: Path
) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, at=DUE_AT.isoformat(), grace_s=600)
    assert job.id is not None
    with sqlite_locked(tmp_path / "h.db"):
        await h.run_until(DUE_AT + timedelta(minutes=11))
    await h.run_until(DUE_AT + timedelta(minutes=13))
    [told] = await replies(h.store, chat_id)
    assert told.text.startswith("This job could not run in time and missed it (too late to run now):\n- #1")
    assert told.meta == {"kind": "notice"}
    row = await jobs.get(h.store, job.id)
    assert row is not None
    assert (row.last_outcome, row.next_run_at, h.timer.armed) == ("missed", None, {})


async def test_a_recurring_job_keeps_the_occurrence_and_its_schedule(h: Harness, tmp_path: Path) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, every="1h")
    assert job.id is not None
    with sqlite_locked(tmp_path / "h.db"):
        await h.run_until(START_AT + timedelta(hours=1, minutes=2))
    await h.run_until(START_AT + timedelta(hours=2, minutes=30))
    texts = [r.text for r in await replies(h.store, chat_id)]
    assert texts == ["Reminder (late: it was due Fri 27 Nov 2026, 08:00 UTC): stretch", "Reminder: stretch"]
    assert h.timer.armed == {job.id: START_AT + timedelta(hours=3)}


async def test_the_sweep_runs_a_due_job_whose_timer_was_lost(h: Harness, tmp_path: Path) -> None:
    chat_id = await h.chat()
    # Made by another process (`hearth jobs add` beside the server): this scheduler has no timer for it.
    other_store = await open_store(tmp_path / "h.db")
    other = Harness(other_store, FakeClock(START_AT))
    job = await other.add(chat_id, every="1h")
    await other_store.close()
    assert job.id is not None
    assert h.timer.armed == {}
    h.clock.now = START_AT + timedelta(hours=1, seconds=10)
    assert await h.service.sweep() == 0  # not yet: its own timer may still be about to fire
    h.clock.now = START_AT + timedelta(hours=1, seconds=40)
    assert await h.service.sweep() == 1
    assert [r.text for r in await replies(h.store, chat_id)] == ["Reminder: stretch"]
    assert h.timer.armed == {job.id: START_AT + timedelta(hours=2)}
    assert await h.service.sweep() == 0


async def test_the_sweep_leaves_a_job_waiting_for_its_retry_and_survives_the_lock(
    h: Harness, tmp_path: Path
) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, at=DUE_AT.isoformat())
    assert job.id is not None
    with sqlite_locked(tmp_path / "h.db"):
        await h.run_until(DUE_AT)
        retry_at = h.timer.armed[job.id]
        h.clock.now = DUE_AT + timedelta(minutes=1)
        assert await h.service.sweep() == 0
    assert (h.timer.armed[job.id], h.service.failures[job.id]) == (retry_at, 1)
    await h.run_until(DUE_AT + timedelta(minutes=2))
    assert len(await replies(h.store, chat_id)) == 1


async def test_with_apscheduler_a_reminder_held_up_by_a_lock_fires_once_it_is_released(
    tmp_path: Path,
) -> None:
    store = await open_store(tmp_path / "h.db", busy_timeout_ms=BUSY_MS)
    service = JobService(
        store, clock=lambda: datetime.now(UTC), notify=lambda _: None, wake=lambda: None, retry_s=0.2
    )
    await service.start()
    chat_id = await Harness(store, FakeClock(datetime.now(UTC))).chat()
    now = datetime.now(UTC)
    spec = parse_trigger((now + timedelta(seconds=0.3)).isoformat(), None, None, "UTC", now)
    job = await service.add(new_job(chat_id, "reminder", "stretch", spec, 3600, "test"))
    assert job.id is not None
    with sqlite_locked(tmp_path / "h.db"):
        await asyncio.sleep(1.5)
        assert service.failures.get(job.id, 0) >= 2
    await until(lambda: job.id not in service.failures, timeout_s=5)
    service.stop()
    [reply] = await replies(store, chat_id)
    assert reply.text == "Reminder: stretch"  # a second late is not worth a word
    row = await jobs.get(store, job.id)
    assert row is not None
    assert (row.last_outcome, row.next_run_at) == ("ok", None)
    await store.close()
