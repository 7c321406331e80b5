"""Due times passed while Hearth was down: one late run within the grace, one notice beyond it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.store import Store, jobs
from tests.jobs.scheduling import FakeClock, Harness, job_messages, open_store, replies

START_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "h.db")
    yield store
    await store.close()


async def down_then_start(store: Store, down_for: timedelta) -> tuple[Harness, Harness, int]:
    """A daily 08:00 UTC reminder fired once, then Hearth is down for `down_for` and starts again."""
    before = Harness(store, FakeClock(START_AT))
    chat_id = await before.chat()
    await before.add(chat_id, "water the plants", cron="0 8 * * *")
    await before.run_until(START_AT + timedelta(hours=2))
    after = Harness(store, FakeClock(before.clock.now + down_for))
    await after.service.start()
    return before, after, chat_id


async def test_within_the_grace_it_fires_once_saying_it_is_late(store: Store) -> None:
    _, after, chat_id = await down_then_start(store, timedelta(hours=23, minutes=30))
    texts = [r.text for r in await replies(store, chat_id)]
    assert texts == [
        "Reminder: water the plants",
        "Reminder (late: it was due Sat 28 Nov 2026, 08:00 UTC): water the plants",
    ]
    job = await jobs.get(store, 1)
    assert job is not None
    assert job.last_outcome == "late"
    assert after.timer.armed == {1: datetime(2026, 11, 29, 8, tzinfo=UTC)}
    assert after.wakes == 1
    assert after.timer.running


async def test_beyond_the_grace_it_is_recorded_missed_and_told_once(store: Store) -> None:
    _, after, chat_id = await down_then_start(store, timedelta(days=3, hours=3))
    rows = await replies(store, chat_id)
    assert [r.text.splitlines()[0] for r in rows[1:]] == [
        "While I was not running, these jobs missed their time (too late to run now):"
    ]
    assert "missed 3 times, last Mon 30 Nov 2026, 08:00 UTC" in rows[1].text
    assert rows[1].meta == {"kind": "notice"}
    job = await jobs.get(store, 1)
    assert job is not None
    assert job.last_outcome == "missed"
    assert job.last_due_at == datetime(2026, 11, 30, 8, tzinfo=UTC)
    again = Harness(store, FakeClock(after.clock.now + timedelta(minutes=5)))
    await again.service.start()
    assert len(await replies(store, chat_id)) == 2


async def test_late_and_missed_together_run_once_and_tell_once(store: Store) -> None:
    _, _, chat_id = await down_then_start(store, timedelta(days=2, hours=23, minutes=30))
    texts = [r.text for r in await replies(store, chat_id)]
    assert len(texts) == 3
    assert texts[1].startswith("Reminder (late: it was due Mon 30 Nov 2026, 08:00 UTC)")
    assert "missed 2 times" in texts[2]


async def test_a_task_due_while_down_runs_late_through_the_inbox(store: Store) -> None:
    h = Harness(store, FakeClock(START_AT))
    chat_id = await h.chat()
    await h.add(chat_id, "check the build", kind="task", at="2026-11-27T07:20:00+00:00")
    after = Harness(store, FakeClock(START_AT + timedelta(minutes=50)))
    await after.service.start()
    [message] = await job_messages(store, chat_id)
    assert "running late] check the build" in message.text
    assert message.meta["late"] == "yes"
    assert after.notified == [chat_id]
    assert after.timer.armed == {}


async def test_a_grace_per_job(store: Store) -> None:
    h = Harness(store, FakeClock(START_AT))
    chat_id = await h.chat()
    await h.add(chat_id, at="2026-11-27T07:20:00+00:00", grace_s=60)
    after = Harness(store, FakeClock(START_AT + timedelta(minutes=25)))
    await after.service.start()
    [notice] = await replies(store, chat_id)
    assert "missed 1 time," in notice.text
