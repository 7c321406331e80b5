"""Pairing codes last one hour: `/approve` and `hearth pair approve` refuse an expired code, by the clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.app import create_app
from assistant.settings import Settings
from tests.access.people import MEMBER, MEMBER_ADDRESS, OWNER, say, to
from tests.channels.webhooks import until, whatsapp_settings
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.process import hearth_env, run_hearth

NO_CODE = "No request has that code (codes last one hour). Send /approve CODE."


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def start(aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, clock: Clock) -> AppClient:
    client: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph), clock=clock))
    return client


async def ask_for_code(client: AppClient, graph: GraphFake, seen: int = 0) -> str:
    """The stranger writes; the code they are sent back."""
    await say(client, MEMBER, "hello")
    await until(lambda: len(to(graph, MEMBER)) == seen + 1)
    return str(re.findall(r"code is ([A-Z0-9]{8})", to(graph, MEMBER)[-1])[0])


async def owner_says(client: AppClient, graph: GraphFake, text: str) -> str:
    before = len(to(graph, OWNER))
    await say(client, OWNER, text)
    await until(lambda: len(to(graph, OWNER)) > before)
    return to(graph, OWNER)[-1]


async def test_a_code_approved_within_the_hour_lets_the_person_in(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake
) -> None:
    clock = Clock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    client = await start(aiohttp_client, settings, graph, clock)
    code = await ask_for_code(client, graph)
    clock.now += timedelta(minutes=59)
    assert (
        await owner_says(client, graph, f"/approve {code}")
        == f"Approved: {MEMBER_ADDRESS} can talk to me now."
    )


async def test_an_hour_old_code_is_refused_and_the_person_stays_out(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama
) -> None:
    clock = Clock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    client = await start(aiohttp_client, settings, graph, clock)
    code = await ask_for_code(client, graph)
    clock.now += timedelta(hours=1, seconds=1)
    assert await owner_says(client, graph, f"/approve {code}") == NO_CODE
    # Still a stranger: asking again gives a fresh code, and nothing reached the model.
    fresh = await ask_for_code(client, graph, seen=1)
    assert fresh != code
    assert "hello" not in str(fake.chat_requests)


async def test_the_pair_command_refuses_an_expired_code(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama, tmp_path: Path
) -> None:
    # The app's clock runs two hours behind the command's: the code was made two hours ago.
    clock = Clock(datetime.now(UTC) - timedelta(hours=2))
    client = await start(aiohttp_client, settings, graph, clock)
    code = await ask_for_code(client, graph)
    env = hearth_env(settings.data_dir, fake.url)
    listed, out, _ = await run_hearth("pair", "list", env=env, cwd=tmp_path)
    assert (listed, code in out) == (0, False)
    refused, out, _ = await run_hearth("pair", "approve", code, env=env, cwd=tmp_path)
    assert (refused, out) == (1, "no live request has that code (codes last one hour)\n")
