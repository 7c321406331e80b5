"""Who may talk to Hearth: owners, strangers and pairing, the rate limit, over real WhatsApp webhooks."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.access.gate import first_of_runs, over_limit
from assistant.access.roles import sender_addresses
from assistant.app import create_app
from assistant.keys import ROUTER, STORE
from assistant.settings import Settings
from assistant.store import inbox
from assistant.store.pairing import MAX_PENDING_PER_CHANNEL
from assistant.store.tables import Chat, Message
from assistant.types import Address, Inbound
from tests.channels.webhooks import OWNER_WA, post_whatsapp, until, wa_body, wa_message, whatsapp_settings
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.process import hearth_env, run_hearth

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
STRANGER = {"wa_id": "4915112345678", "user_id": "DE.77001122"}


def at(*seconds: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(
    ("times", "limit", "expected"),
    [
        (at(0, 1, 2), 3, [False, False, False]),
        (at(0, 1, 2, 3, 4), 3, [False, False, False, True, True]),
        (at(0, 1, 2, 61, 62), 3, [False, False, False, False, False]),
        (at(0, 1, 2, 3, 70, 71, 72, 73), 3, [False, False, False, True, False, False, False, True]),
        ([], 3, []),
    ],
)
def test_over_limit(times: list[datetime], limit: int, expected: list[bool]) -> None:
    assert over_limit(times, limit) == expected


@pytest.mark.parametrize(
    ("flags", "told"),
    [
        ([False, True, True], [False, True, False]),
        ([True, False, True], [True, False, True]),
        ([], []),
    ],
)
def test_the_sender_is_told_once_per_run(flags: list[bool], told: list[bool]) -> None:
    assert first_of_runs(flags) == told


@pytest.mark.parametrize(
    ("channel", "address", "meta", "expected"),
    [
        (
            "whatsapp",
            "whatsapp:US.1",
            {"user_id": "US.1", "wa_id": "1555"},
            ("whatsapp:US.1", "whatsapp:+1555"),
        ),
        ("whatsapp", "whatsapp:US.1", {"user_id": "US.1"}, ("whatsapp:US.1",)),
        ("twilio", "sms:+1555", {"wa_id": "1555"}, ("sms:+1555",)),
    ],
)
def test_sender_addresses(
    channel: str, address: str, meta: dict[str, str], expected: tuple[str, ...]
) -> None:
    chat = Chat(channel=channel, address=address)
    message = Message(chat_id=1, channel=channel, provider_id="x", text="", meta=meta)
    assert sender_addresses(chat, [message]) == expected


async def start(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, **changes: object
) -> AppClient:
    client: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph, **changes)))
    return client


def to(graph: GraphFake, recipient: str) -> list[str]:
    return [s["text"]["body"] for s in graph.sent if s.get("recipient") == recipient and s["type"] == "text"]


def seen_by_model(fake: FakeOllama) -> str:
    return str(fake.chat_requests)


async def say(client: AppClient, text: str, *, wa_id: str = OWNER_WA, user_id: str = "US.1") -> None:
    response = await post_whatsapp(client, wa_body(wa_message(text, wa_id=wa_id, user_id=user_id)))
    assert response.status == 200


async def test_pairing_lets_a_stranger_in_only_once_the_owner_approves(
    aiohttp_client: MakeClient,
    settings: Settings,
    graph: GraphFake,
    fake: FakeOllama,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await start(aiohttp_client, settings, graph)
    await say(client, "hi")
    await until(lambda: to(graph, "US.1") == ["echo: hi"])

    await say(client, "my secret plan", **STRANGER)
    await until(lambda: len(to(graph, "DE.77001122")) == 1 and len(to(graph, "US.1")) == 2)
    code = re.search(r"code is ([A-Z0-9]{8})", to(graph, "DE.77001122")[0])
    assert code is not None
    assert f"/approve {code[1]}" in to(graph, "US.1")[1]
    await say(client, f"/approve {code[1]}", **STRANGER)
    await say(client, "still me", **STRANGER)
    await asyncio.sleep(0.3)
    assert len(to(graph, "DE.77001122")) == 1

    await say(client, f"/approve {code[1].lower()}")
    approved = "Approved: whatsapp:DE.77001122 can talk to me now."
    await until(lambda: len(to(graph, "DE.77001122")) == 2 and to(graph, "US.1")[-1] == approved)
    assert to(graph, "DE.77001122")[-1] == "You're approved: you can talk to me now."
    await say(client, "now?", **STRANGER)
    await until(lambda: "echo: now?" in to(graph, "DE.77001122"))
    for hidden in ("my secret plan", "still me", code[1]):
        assert hidden not in seen_by_model(fake)
    assert code[1] not in caplog.text
    # The owners include an sms: address, whose caller id could be spoofed: said once at start.
    assert "HEARTH_OWNERS names sms:+15551230000: an SMS sender's number can be spoofed" in caplog.text

    await say(client, "/approve ABCDEFGH", **STRANGER)
    await until(lambda: to(graph, "DE.77001122")[-1] == "Only my owner can do that.")
    await say(client, "/revoke whatsapp:+4915112345678")
    await until(lambda: to(graph, "US.1")[-1].startswith("Revoked"))
    await say(client, "hello again", **STRANGER)
    await until(lambda: "code is" in to(graph, "DE.77001122")[-1])
    assert "hello again" not in seen_by_model(fake)


async def test_codes_pending_on_a_channel_are_capped_and_one_per_sender(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake
) -> None:
    client = await start(aiohttp_client, settings, graph)
    strangers = MAX_PENDING_PER_CHANNEL + 1
    for n in range(strangers):
        await say(client, "hello", wa_id=f"49170000{n:02}", user_id=f"DE.{n}")
    await say(client, "hello again", wa_id="4917000000", user_id="DE.0")
    await until(lambda: len(graph.sent) >= MAX_PENDING_PER_CHANNEL)
    await asyncio.sleep(0.3)
    assert [len(to(graph, f"DE.{n}")) for n in range(strangers)] == [1] * MAX_PENDING_PER_CHANNEL + [0]


async def test_ignore_mode_answers_strangers_nothing(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await start(aiohttp_client, settings, graph, strangers="ignore")
    await say(client, "anyone there?", **STRANGER)
    await say(client, "hi")
    await until(lambda: to(graph, "US.1") == ["echo: hi"])
    assert to(graph, "DE.77001122") == []
    assert "anyone there?" not in seen_by_model(fake)


async def test_beyond_the_rate_limit_messages_are_stored_not_answered(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama
) -> None:
    client = await start(aiohttp_client, settings, graph, rate_limit_per_min=3)
    fake.delay_s = 0.3
    for n in range(6):
        await say(client, f"m{n}")
    await until(lambda: any("faster than I can answer" in t for t in to(graph, "US.1")))
    await asyncio.sleep(0.8)
    answered = " | ".join(t for t in to(graph, "US.1") if t.startswith("echo: "))
    assert sorted(answered.replace("echo: ", "").split(" | ")) == ["m0", "m1", "m2"]
    assert sum("faster than I can answer" in t for t in to(graph, "US.1")) == 1
    assert "m4" not in seen_by_model(fake)


async def test_the_pair_command_lists_approves_and_revokes(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama, tmp_path: Path
) -> None:
    client = await start(aiohttp_client, settings, graph)
    await say(client, "hello", **STRANGER)
    await until(lambda: len(to(graph, "DE.77001122")) == 1)
    code = re.findall(r"[A-Z0-9]{8}", to(graph, "DE.77001122")[0])[-1]
    env = hearth_env(settings.data_dir, fake.url)
    code_listed, out, _ = await run_hearth("pair", "list", env=env, cwd=tmp_path)
    assert code_listed == 0
    assert f"whatsapp:DE.77001122\tcode {code}" in out
    assert (await run_hearth("pair", "approve", "WRONG123", env=env, cwd=tmp_path))[0] == 1
    assert (await run_hearth("pair", "approve", code, env=env, cwd=tmp_path))[0] == 0
    await say(client, "in?", **STRANGER)
    await until(lambda: "echo: in?" in to(graph, "DE.77001122"))
    result = await run_hearth("pair", "revoke", "whatsapp:DE.77001122", env=env, cwd=tmp_path)
    assert result[:2] == (0, "revoked whatsapp:DE.77001122\n")


async def test_a_job_in_a_chat_keyed_by_user_id_needs_no_pairing(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake
) -> None:
    client = await start(aiohttp_client, settings, graph)
    now = datetime.now(UTC)
    await say(client, "hi")
    await until(lambda: to(graph, "US.1") == ["echo: hi"])
    job = Inbound("whatsapp", "job-1", Address("whatsapp", "US.1"), "water the plants", now, "job")
    [accepted] = await inbox.accept(client.app[STORE], [job], now)
    client.app[ROUTER].notify(accepted.chat_id)
    await until(lambda: len(to(graph, "US.1")) == 2)
    assert "water the plants" in to(graph, "US.1")[1]
    assert len(graph.read) == 1  # a job is not marked read
