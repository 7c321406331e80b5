"""The job service fires each due time once: once, interval and cron jobs, restarts, cancels, tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.jobs.rules import JobNotFound
from assistant.store import Store, jobs
from tests.jobs.scheduling import FakeClock, Harness, due_times, job_messages, open_store, replies

START_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "h.db")
    yield store
    await store.close()


@pytest.fixture
def h(store: Store) -> Harness:
    return Harness(store, FakeClock(START_AT))


async def test_a_one_off_reminder_goes_to_the_outbox_once(h: Harness) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, "take the cake out", at="2026-11-27T07:30:00+00:00")
    assert job.id is not None
    assert h.timer.armed == {job.id: START_AT + timedelta(minutes=30)}
    await h.run_until(START_AT + timedelta(hours=2))
    assert [r.text for r in await replies(h.store, chat_id)] == ["Reminder: take the cake out"]
    assert h.wakes == 1
    assert h.timer.armed == {}
    stored = await jobs.get(h.store, job.id)
    assert stored is not None
    assert stored.next_run_at is None
    assert stored.last_outcome == "ok"
    assert not await h.service.fire(job.id)


async def test_a_job_is_not_fired_before_its_time(h: Harness) -> None:
    job = await h.add(await h.chat(), at="2026-11-27T07:30:00+00:00")
    assert job.id is not None
    h.clock.now = START_AT + timedelta(minutes=29)
    assert not await h.service.fire(job.id)


async def test_an_interval_counts_from_creation(h: Harness) -> None:
    chat_id = await h.chat()
    await h.add(chat_id, every="90m")
    await h.run_until(START_AT + timedelta(hours=5))
    assert due_times(await replies(h.store, chat_id)) == ["11-27 08:30", "11-27 10:00", "11-27 11:30"]


async def test_cron_weekdays_with_sunday_as_0_and_7(h: Harness) -> None:
    chat_id = await h.chat()
    await h.add(chat_id, cron="0 9 * * 0")
    await h.add(chat_id, "weekday", cron="0 9 * * 1-5")
    await h.run_until(START_AT + timedelta(days=7))
    rows = await replies(h.store, chat_id)
    sundays = [r for r in rows if r.text == "Reminder: stretch"]
    assert due_times(sundays) == ["11-29 09:00"]
    assert due_times([r for r in rows if r.text == "Reminder: weekday"]) == [
        "11-27 09:00",
        "11-30 09:00",
        "12-01 09:00",
        "12-02 09:00",
        "12-03 09:00",
    ]


async def test_a_task_enters_the_inbox_as_a_job_message_once(h: Harness) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, "summarise the news", kind="task", at="2026-11-27T08:00:00+00:00")
    assert job.id is not None
    await h.run_until(START_AT + timedelta(hours=1))
    h.clock.now = START_AT + timedelta(hours=1)
    assert not await h.service.fire(job.id)
    [message] = await job_messages(h.store, chat_id)
    assert message.provider_id == f"job:{job.id}:2026-11-27T08:00:00+00:00"
    assert message.text.endswith("] summarise the news")
    assert message.status == "accepted"
    assert h.notified == [chat_id]
    assert await replies(h.store, chat_id) == []


async def test_cancel_while_due_means_it_never_fires(h: Harness) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, every="1h")
    assert job.id is not None
    h.clock.now = START_AT + timedelta(hours=1)
    await h.service.change(job.id, chat_id, "cancel")
    assert not await h.service.fire(job.id)
    assert await replies(h.store, chat_id) == []
    assert h.timer.armed == {}


async def test_pause_and_resume_skip_the_paused_due_times(h: Harness) -> None:
    chat_id = await h.chat()
    job = await h.add(chat_id, every="1h")
    assert job.id is not None
    await h.service.change(job.id, chat_id, "pause")
    assert h.timer.armed == {}
    h.clock.now = START_AT + timedelta(hours=3, minutes=30)
    resumed = await h.service.change(job.id, chat_id, "resume")
    assert resumed.next_run_at == START_AT + timedelta(hours=4)
    await h.run_until(START_AT + timedelta(hours=4))
    assert due_times(await replies(h.store, chat_id)) == ["11-27 11:00"]


async def test_another_chat_cannot_touch_a_job(h: Harness) -> None:
    mine, theirs = await h.chat("api:ann"), await h.chat("api:bob")
    job = await h.add(mine, every="1h")
    assert job.id is not None
    with pytest.raises(JobNotFound, match=f"there is no job {job.id} in this chat"):
        await h.service.change(job.id, theirs, "cancel")


async def test_two_services_on_one_database_fire_a_due_time_once(tmp_path: Path, store: Store) -> None:
    first = Harness(store, FakeClock(START_AT))
    chat_id = await first.chat()
    job = await first.add(chat_id, kind="task", every="1h")
    assert job.id is not None
    other_store = await open_store(tmp_path / "h.db")
    second = Harness(other_store, FakeClock(START_AT + timedelta(hours=1)))
    first.clock.now = START_AT + timedelta(hours=1)
    fired = [await first.service.fire(job.id), await second.service.fire(job.id)]
    await second.service.start()
    await other_store.close()
    assert fired == [True, False]
    assert len(await job_messages(store, chat_id)) == 1


async def test_a_restart_after_firing_does_not_fire_again(tmp_path: Path, store: Store) -> None:
    h = Harness(store, FakeClock(START_AT))
    chat_id = await h.chat()
    await h.add(chat_id, cron="30 7 * * *")
    await h.run_until(START_AT + timedelta(minutes=45))
    again = Harness(store, FakeClock(START_AT + timedelta(minutes=50)))
    assert await again.service.start() == 1
    assert again.timer.armed == {1: START_AT + timedelta(days=1, minutes=30)}
    assert len(await replies(store, chat_id)) == 1
