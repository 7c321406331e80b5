"""The outbox sender: order within a chat, retries with backoff, permanent failures recorded."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from assistant.app import create_app
from assistant.backoff import backoff_s
from assistant.channels import SendError
from assistant.keys import ROUTER, STORE
from assistant.settings import Settings
from assistant.store import inbox, views
from assistant.types import Address, Inbound, Outbound
from tests.conftest import MakeClient


class Flaky:
    """A channel that fails as told, then records what it delivered."""

    name = "flaky"

    def __init__(self) -> None:
        self.failures: list[SendError] = []
        self.sent: list[str] = []
        self.attempts = 0
        self.delivered = asyncio.Event()

    async def send(self, reply: Outbound) -> str | None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(reply.text)
        self.delivered.set()
        return f"p-{len(self.sent)}"


async def start(aiohttp_client: MakeClient, settings: Settings, channel: Flaky) -> web.Application:
    client: TestClient[web.Request, web.Application] = await aiohttp_client(
        create_app(settings, channels=[channel])
    )
    return client.app


async def say(app: web.Application, text: str) -> int:
    now = datetime.now(UTC)
    message = Inbound("flaky", text, Address("sms", "+15550001"), text, now)
    [accepted] = await inbox.accept(app[STORE], [message], now)
    app[ROUTER].notify(accepted.chat_id)
    return accepted.chat_id


async def until(condition: object, timeout_s: float = 5) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_transient_failures_are_retried_in_order(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    channel = Flaky()
    channel.failures = [SendError("503", retryable=True) for _ in range(3)]
    app = await start(aiohttp_client, settings, channel)
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
    app = await start(aiohttp_client, settings, channel)
    chat_id = await say(app, "one")
    await until(lambda: channel.attempts == 1)
    await say(app, "two")
    await until(lambda: channel.sent == ["echo: two"])
    entries = await views.entries(app[STORE], chat_id)
    failed = [e for e in entries if e.role == "assistant" and e.status == "failed"]
    assert [e.text for e in failed] == ["echo: one"]


@pytest.mark.parametrize(
    ("attempts", "low", "high"), [(1, 1.0, 2.0), (2, 2.0, 4.0), (4, 8.0, 16.0), (30, 150.0, 300.0)]
)
def test_retry_delays_grow_and_are_capped(attempts: int, low: float, high: float) -> None:
    rng = random.Random(7)
    delays = [backoff_s(attempts, 2.0, rng) for _ in range(50)]
    assert all(low <= d <= high for d in delays)
