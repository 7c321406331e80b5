"""Wake-ups between replicas: an HTTP API request waiting on one replica for a message another
replica answered returns when that answer commits, not when its wait runs out."""

from __future__ import annotations

import asyncio
import time

from assistant.keys import REPLICA
from tests.api import send, wait_handled
from tests.conftest import MakeClient
from tests.fakes.ollama import FakeOllama
from tests.postgres import postgres_url

__all__ = ["postgres_url"]


async def test_a_wait_on_one_replica_ends_when_another_answers(
    make_client: MakeClient, fake: FakeOllama, postgres_url: str
) -> None:
    a = await make_client(database_url=postgres_url, lease_s=3.0)
    b = await make_client(database_url=postgres_url, lease_s=3.0)
    assert a.app[REPLICA] is not None
    fake.delay_s = 1.0
    await send(b, "shared", "one")  # b takes the chat and thinks for a second
    async with asyncio.timeout(10):
        while not fake.in_flight:
            await asyncio.sleep(0.01)
    second = await send(a, "shared", "two")  # a finds the chat held: b answers it after "one"
    begun = time.perf_counter()
    view = await wait_handled(a, second, wait_s=20)
    waited_s = time.perf_counter() - begun
    assert view["status"] == "handled"
    assert waited_s < 8, f"the wait ran {waited_s:.1f} s: the other replica's answer did not wake it"
