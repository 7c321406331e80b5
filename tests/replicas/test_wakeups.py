"""Wake-ups between replicas: an HTTP API request waiting on one replica for a message another
replica answered returns when that answer commits, not when its wait runs out."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from assistant.keys import JOBS, REPLICA, STORE
from assistant.store.tables import Reply
from tests.api import send, wait_handled
from tests.conftest import MakeClient
from tests.fakes.ollama import FakeOllama
from tests.postgres import postgres_url
from tests.process import hearth_env, run_hearth

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


async def test_a_job_added_from_the_command_line_is_armed_by_the_leader_at_once(
    make_client: MakeClient, postgres_url: str, tmp_path: Path
) -> None:
    a = await make_client(database_url=postgres_url, lease_s=3.0)
    async with asyncio.timeout(20):
        while not a.app[JOBS].leading:
            await asyncio.sleep(0.05)
    # Far enough ahead for a slow start of the command; the sweep runs only jobs 30 s overdue, so
    # a reminder on time can only have been armed by the wake-up.
    due = datetime.now(UTC) + timedelta(seconds=10)
    env = hearth_env(tmp_path / "cli", "http://127.0.0.1:9", HEARTH_DATABASE_URL=postgres_url)
    args = ("jobs", "add", "--chat", "api:ann", "--text", "stretch", "--at", due.isoformat())
    code, out, err = await run_hearth(*args, env=env, cwd=tmp_path)
    assert code == 0, err
    assert out.splitlines()[-1] == "Any running replica was told: the job runs at its due time."
    query = select(Reply.created_at).where(Reply.text == "Reminder: stretch")
    async with asyncio.timeout(30):
        while not (sent := await a.app[STORE].read(lambda s: list(s.exec(query)))):
            await asyncio.sleep(0.1)
    late_s = (sent[0] - due).total_seconds()
    assert -0.5 < late_s < 5, f"the reminder came {late_s:.1f} s after its due time"
