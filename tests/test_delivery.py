"""The outbox sender: order within a chat, retries with backoff, permanent failures recorded, replies
for channels not served here held aside and given up, each reply sent once."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import Session

from assistant.backoff import MAX_DELAY_S, backoff_s
from assistant.channels import SendError
from assistant.keys import SENDER, STORE
from assistant.settings import Settings
from assistant.store import views
from assistant.store.tables import Reply
from tests.api import send, wait_handled
from tests.conftest import MakeClient
from tests.delivery import Clock, Flaky, hold_replies, replies, say, start, until, until_reply

RETRYABLE = SendError("503", retryable=True)


async def test_transient_failures_are_retried_in_order(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    channel = Flaky()
    channel.failures = [RETRYABLE for _ in range(3)]
    app = (await start(aiohttp_client, settings, channel)).app
    for text in ("one", "two", "three"):
        await say(app, text)
        await asyncio.sleep(0.05)
    await until(lambda: len(channel.sent) == 3)
    assert channel.sent == ["echo: one", "echo: two", "echo: three"]
    await asyncio.sleep(0.2)
    assert len(channel.sent) == 3


async def test_a_permanent_failure_is_recorded_and_the_chat_moves_on(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    channel = Flaky()
    channel.failures = [SendError("number unreachable", retryable=False, code="21211")]
    app = (await start(aiohttp_client, settings, channel)).app
    chat_id = await say(app, "one")
    await until(lambda: channel.attempts == 1)
    await say(app, "two")
    await until(lambda: channel.sent == ["echo: two"])
    entries = await views.entries(app[STORE], chat_id)
    failed = [e for e in entries if e.role == "assistant" and e.status == "failed"]
    assert [e.text for e in failed] == ["echo: one"]


async def test_a_chat_sends_nothing_after_a_reply_that_failed_in_the_same_round(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    channel, clock = Flaky(), Clock()
    channel.hold = {"echo: zero"}
    app = (await start(aiohttp_client, settings, channel, clock)).app
    await say(app, "zero", at=clock())
    await channel.holding.wait()
    # While "zero" is on its way, three more replies wait: the next round sees them together.
    for text in ("one", "two", "three"):
        await say(app, text, at=clock())
        await until_reply(app, lambda r, t=text: r.text == f"echo: {t}")  # type: ignore[misc]
    channel.failures = [None, RETRYABLE]  # "zero" goes out, "one" fails
    channel.gate.set()
    await until_reply(app, lambda r: r.text == "echo: one" and r.attempts == 1)
    await asyncio.sleep(0.2)
    assert channel.sent == ["echo: zero"]
    clock.advance(MAX_DELAY_S)
    app[SENDER].wake()
    await until(lambda: len(channel.sent) == 4)
    assert channel.sent == ["echo: zero", "echo: one", "echo: two", "echo: three"]


async def test_every_reply_reaches_its_chat_once_and_in_order(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    channel = Flaky()
    rng = random.Random(3)
    channel.failures = [RETRYABLE if rng.random() < 0.4 else None for _ in range(40)]
    app = (await start(aiohttp_client, settings, channel)).app
    people = [f"+1555000{n:04d}" for n in range(4)]
    for n in range(4):
        for who in people:
            await say(app, f"m{n}", who=who)
        # Each message its own turn and reply, rather than folded into the next one.
        await until_count(app, 4 * (n + 1))
    await until(lambda: len(channel.sent) >= 16, timeout_s=15)
    await asyncio.sleep(0.3)
    assert channel.duplicates() == {}
    expected = [f"echo: m{n}" for n in range(4)]
    assert channel.per_chat() == {f"sms:{who}": expected for who in people}


async def until_count(app: web.Application, count: int) -> None:
    async with asyncio.timeout(5):
        while len(await replies(app)) < count:
            await asyncio.sleep(0.01)


async def test_replies_for_a_channel_not_served_here_never_hold_up_the_others(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    channel, clock = Flaky(), Clock()
    client = await start(aiohttp_client, settings, channel, clock)
    await hold_replies(client.app, "console", 250, clock())
    await say(client.app, "hello", at=clock())
    await until(lambda: channel.sent == ["echo: hello"])
    view = await wait_handled(client, await send(client, "owner", "/status"))
    await until_reply(client.app, lambda r: r.text.startswith("Model:") and r.status == "sent")
    assert "of them for console, which is not running here: 250" in view["replies"][0]["text"]


async def test_held_replies_fail_after_the_max_age_with_the_reason(
    aiohttp_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    channel, clock = Flaky(), Clock()
    client = await start(aiohttp_client, dataclasses.replace(settings, reply_max_age_s=600), channel, clock)
    app = client.app
    await hold_replies(app, "whatsapp", 3, clock())
    clock.advance(599)
    await say(app, "still waiting", at=clock())
    await until(lambda: channel.sent == ["echo: still waiting"])
    assert {r.status for r in await replies(app) if r.text.startswith("held")} == {"pending"}
    assert "3 replies wait for the whatsapp channel" in caplog.text
    clock.advance(1)
    app[SENDER].wake()
    given_up = await until_reply(app, lambda r: r.text == "held 2" and r.status == "failed")
    assert given_up.error == "no whatsapp channel runs here to send it; given up after 600 s"
    view = await wait_handled(client, await send(client, "owner", "/status"))
    assert "not running here" not in view["replies"][0]["text"]


async def test_held_replies_are_given_up_on_time_with_nothing_else_going_on(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    app = (await start(aiohttp_client, dataclasses.replace(settings, reply_max_age_s=0.5), Flaky())).app
    await hold_replies(app, "console", 2, datetime.now(UTC))
    app[SENDER].wake()  # as whatever writes a reply does
    await until_reply(app, lambda r: r.text == "held 1" and r.status == "failed", timeout_s=3)


async def failing_reply(
    aiohttp_client: MakeClient, settings: Settings, **changes: Any
) -> tuple[web.Application, Flaky, Clock, Reply]:
    """An app on a standing clock whose channel fails every send; its first reply, tried once."""
    channel, clock = Flaky(), Clock()
    channel.always = RETRYABLE
    changed = dataclasses.replace(settings, **changes)
    app = (await start(aiohttp_client, changed, channel, clock)).app
    await say(app, "one", at=clock())
    return app, channel, clock, await until_reply(app, lambda r: r.attempts == 1)


async def test_retries_back_off_and_never_spin(aiohttp_client: MakeClient, settings: Settings) -> None:
    app, channel, clock, reply = await failing_reply(aiohttp_client, settings, send_retry_s=1.0)
    gaps_s: list[float] = []
    for attempts in range(1, 11):
        await asyncio.sleep(0.15)  # time stands still: a reply tried again now is a hot loop
        assert channel.attempts == attempts
        assert reply.next_attempt_at is not None
        gaps_s.append((reply.next_attempt_at - clock()).total_seconds())
        clock.now = reply.next_attempt_at
        app[SENDER].wake()
        reply = await until_reply(app, lambda r, n=attempts: r.attempts == n + 1)  # type: ignore[misc]
    for attempts, gap_s in enumerate(gaps_s, start=1):
        full_s = min(2.0 ** (attempts - 1), MAX_DELAY_S)
        assert full_s / 2 <= gap_s <= full_s, (attempts, gaps_s)


async def test_a_reply_is_given_up_at_the_max_age_with_its_last_error(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    app, channel, clock, reply = await failing_reply(
        aiohttp_client, settings, send_retry_s=1.0, reply_max_age_s=60
    )
    for _ in range(30):
        if reply.status != "pending" or reply.next_attempt_at is None:
            break
        clock.now = reply.next_attempt_at
        app[SENDER].wake()
        tried = reply.attempts
        reply = await until_reply(app, lambda r, n=tried: r.attempts > n)  # type: ignore[misc]
    assert reply.status == "failed"
    assert reply.error == "503"
    assert clock() == reply.created_at + timedelta(seconds=60)
    await asyncio.sleep(0.1)
    assert channel.attempts == reply.attempts


async def test_a_reply_tried_a_thousand_times_still_backs_off(
    aiohttp_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app, channel, clock, reply = await failing_reply(aiohttp_client, settings, send_retry_s=5.0)
    reply_id = reply.id

    def worn(session: Session) -> None:
        row = session.get(Reply, reply_id)
        assert row is not None
        row.attempts, row.next_attempt_at = 1100, None

    await app[STORE].write(worn)
    app[SENDER].wake()
    reply = await until_reply(app, lambda r: r.attempts == 1101)
    assert reply.next_attempt_at is not None
    assert 150 <= (reply.next_attempt_at - clock()).total_seconds() <= MAX_DELAY_S
    await asyncio.sleep(0.2)
    assert channel.attempts == 2
    assert "OverflowError" not in caplog.text
    assert "failed a round" not in caplog.text


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [
        (1, 1.0, 2.0),
        (2, 2.0, 4.0),
        (4, 8.0, 16.0),
        (30, 150.0, 300.0),
        (1026, 150.0, 300.0),
        (10**9, 150, 300),
    ],
)
def test_retry_delays_grow_and_are_capped(attempts: int, low: float, high: float) -> None:
    rng = random.Random(7)
    delays = [backoff_s(attempts, 2.0, rng) for _ in range(50)]
    assert all(low <= d <= high for d in delays)


async def test_an_api_reply_is_readable_as_sent_while_another_channel_is_slow(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    # The API's replies are delivered by being written: they never wait behind the outbox sender,
    # which here is stuck on a provider that does not answer.
    channel = Flaky()
    channel.hold = {"echo: slow"}
    client = await start(aiohttp_client, settings, channel)
    await say(client.app, "slow")
    await asyncio.wait_for(channel.holding.wait(), 5)
    view = await wait_handled(client, await send(client, "a", "hello"))
    assert [(r["text"], r["status"]) for r in view["replies"]] == [("echo: hello", "sent")]
    metrics = await (await client.get("/metrics")).text()
    assert "hearth_replies_sent_total 1" in metrics
    channel.gate.set()
    await until(lambda: channel.sent == ["echo: slow"])
