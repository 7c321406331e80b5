"""Slash commands answer without the model."""

from __future__ import annotations

import pytest

from assistant.commands import command_name
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient
from tests.fakes.ollama import FakeOllama


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("/help", "help"),
        ("  /Reset now", "reset"),
        ("/status\n", "status"),
        ("/", None),
        ("/ 1", None),
        ("hello /help", None),
        ("/2fa", None),
    ],
)
def test_command_names(text: str, name: str | None) -> None:
    assert command_name(text) == name


async def test_help_lists_the_commands(client: AppClient, fake: FakeOllama) -> None:
    view = await wait_handled(client, await send(client, "c", "/help"))
    text = view["replies"][0]["text"]
    assert all(f"/{name}" in text for name in ("help", "reset", "status"))
    assert fake.chat_requests == []


async def test_unknown_commands_say_so(client: AppClient, fake: FakeOllama) -> None:
    view = await wait_handled(client, await send(client, "c", "/frobnicate"))
    assert "/help" in view["replies"][0]["text"]
    assert fake.chat_requests == []


async def test_status_reports_the_model_and_queue(client: AppClient) -> None:
    view = await wait_handled(client, await send(client, "c", "/status"))
    text = view["replies"][0]["text"]
    assert "qwen3:4b" in text
    assert "Waiting messages: " in text
    assert "Turns in flight: 1" in text


async def test_reset_forgets_history_for_the_model_but_keeps_the_transcript(
    client: AppClient, fake: FakeOllama
) -> None:
    await wait_handled(client, await send(client, "r", "my secret is marmalade"))
    await wait_handled(client, await send(client, "r", "/reset"))
    await wait_handled(client, await send(client, "r", "what was my secret?"))
    contents = [m["content"] for m in fake.chat_requests[-1]["messages"]]
    assert not any("marmalade" in c for c in contents)
    assert "my secret is marmalade" in [e["text"] for e in await transcript(client, "r")]


async def test_a_command_between_messages_keeps_its_place(client: AppClient, fake: FakeOllama) -> None:
    fake.delay_s = 0.3
    first = await send(client, "o", "one")
    ids = [await send(client, "o", t) for t in ("two", "/help", "three")]
    for message_id in [first, *ids]:
        await wait_handled(client, message_id)
    roles = [(e["role"], e["text"][:8]) for e in await transcript(client, "o")]
    replies = [text for role, text in roles if role == "assistant"]
    assert replies == ["echo: on", "echo: tw", "Commands", "echo: th"]
