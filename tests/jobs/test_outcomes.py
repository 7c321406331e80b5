"""A task whose turn fails is retried after 1, 5 and 15 minutes, and its owner hears once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.jobs.outcomes import retry_delay_s
from assistant.pipeline import TurnEnd
from assistant.store import Store, inbox, jobs
from assistant.store.tables import Message, Turn
from tests.jobs.scheduling import FakeClock, Harness, job_messages, open_store, replies

START_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def end(messages: Sequence[Message], status: str) -> TurnEnd:
    """What the pipeline tells its listeners about a turn that ran these messages."""
    return TurnEnd(Turn(chat_id=messages[0].chat_id, kind="agent"), messages, status)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "h.db")
    yield store
    await store.close()


@pytest.mark.parametrize(
    ("failed_attempts", "delay_s"), [(0, None), (1, 60.0), (2, 300.0), (3, 900.0), (4, None)]
)
def test_retry_delays(failed_attempts: int, delay_s: float | None) -> None:
    assert retry_delay_s(failed_attempts) == delay_s


async def fail_once(h: Harness, message: Message) -> Message:
    """What the pipeline does when the model is down: defer the message, then report it."""
    assert message.id is not None
    now = h.clock.now
    turn = Turn(chat_id=message.chat_id, started_at=now, finished_at=now, error="model unavailable")
    await inbox.defer(h.store, turn, [message.id], now + timedelta(seconds=1), None)
    await h.service.outcome(end([message], "deferred"))
    [message] = await job_messages(h.store, message.chat_id)
    return message


async def due_task(store: Store) -> tuple[Harness, int, Message]:
    h = Harness(store, FakeClock(START_AT))
    chat_id = await h.chat()
    await h.add(chat_id, "check the build", kind="task", every="1d")
    await h.run_until(START_AT + timedelta(days=1))
    [message] = await job_messages(store, chat_id)
    return h, chat_id, message


async def test_retried_after_1_5_15_minutes_then_given_up(store: Store) -> None:
    h, chat_id, message = await due_task(store)
    delays_s = []
    for _ in range(4):
        message = await fail_once(h, message)
        if message.next_attempt_at is not None:
            delays_s.append((message.next_attempt_at - h.clock.now).total_seconds())
            h.clock.now = message.next_attempt_at
    assert delays_s == [60, 300, 900]
    assert message.status == "failed"
    job = await jobs.get(store, 1)
    assert job is not None
    assert (job.last_outcome, job.consecutive_failures, job.retry_at) == ("failed", 4, None)
    notices = [r.text for r in await replies(store, chat_id)]
    assert len(notices) == 1
    assert notices[0].startswith('Your scheduled task #1 "check the build" has failed 3 times in a row')
    assert h.wakes == 1


async def test_success_resets_the_failures(store: Store) -> None:
    h, _, message = await due_task(store)
    message = await fail_once(h, message)
    job = await jobs.get(store, 1)
    assert job is not None
    assert (job.last_outcome, job.consecutive_failures) == ("retrying", 1)
    assert job.retry_at == START_AT + timedelta(days=1, minutes=1)
    await h.service.outcome(end([message], "handled"))
    job = await jobs.get(store, 1)
    assert job is not None
    assert (job.last_outcome, job.consecutive_failures, job.retry_at) == ("ok", 0, None)


async def test_an_internal_failure_is_not_retried(store: Store) -> None:
    h, _, message = await due_task(store)
    await h.service.outcome(end([message], "failed"))
    job = await jobs.get(store, 1)
    assert job is not None
    assert (job.last_outcome, job.consecutive_failures) == ("failed", 1)


async def test_a_person_s_message_is_left_alone(store: Store) -> None:
    h, chat_id, _ = await due_task(store)
    person = Message(id=99, chat_id=chat_id, channel="api", provider_id="p", text="hi")
    await h.service.outcome(end([person], "deferred"))
    job = await jobs.get(store, 1)
    assert job is not None
    assert job.consecutive_failures == 0
