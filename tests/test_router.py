"""The router through the public API: order inside a chat, parallelism across chats, the cap, batching."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.settings import Settings
from assistant.store import Store, inbox
from assistant.types import Address, Inbound
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step


def user_texts(request: dict[str, Any]) -> list[str]:
    """The user messages a chat request ends with (the ones the turn answers)."""
    texts: list[str] = []
    for message in reversed(request["messages"]):
        if message["role"] != "user":
            break
        texts.append(message["content"])
    return texts[::-1]


async def test_order_within_each_chat_under_concurrent_load(client: AppClient, fake: FakeOllama) -> None:
    fake.delay_s = 0.01

    async def talk(chat: str) -> list[str]:
        return [await send(client, chat, f"{chat}-{n}") for n in range(8)]

    ids = await asyncio.gather(*(talk(f"c{k}") for k in range(6)))
    for chat_ids in ids:
        await wait_handled(client, chat_ids[-1])
    for k in range(6):
        entries = await transcript(client, f"c{k}")
        said = [e["text"] for e in entries if e["role"] == "user"]
        assert said == [f"c{k}-{n}" for n in range(8)]
        answered = " | ".join(e["text"].removeprefix("echo: ") for e in entries if e["role"] == "assistant")
        assert answered.split(" | ") == said


async def test_chats_run_in_parallel_up_to_the_cap(make_client: MakeClient, fake: FakeOllama) -> None:
    client = await make_client(max_concurrent_turns=2)
    fake.delay_s = 0.2
    ids = await asyncio.gather(*(send(client, f"p{k}", "hello") for k in range(6)))
    await asyncio.gather(*(wait_handled(client, i) for i in ids))
    assert fake.max_in_flight == 2


async def test_one_chat_never_runs_two_turns_at_once(client: AppClient, fake: FakeOllama) -> None:
    fake.delay_s = 0.1
    ids = [await send(client, "solo", f"m{n}") for n in range(5)]
    await wait_handled(client, ids[-1])
    assert fake.max_in_flight == 1


async def test_messages_arriving_during_a_turn_are_answered_together(
    client: AppClient, fake: FakeOllama
) -> None:
    fake.push(Step(content="first answer", delay_s=0.5), Step(content="second answer"))
    first = await send(client, "batch", "one")
    while not fake.chat_requests:
        await asyncio.sleep(0.01)
    later = [await send(client, "batch", text) for text in ("two", "three", "four")]
    views = [await wait_handled(client, i) for i in [first, *later]]
    assert [user_texts(r) for r in fake.chat_requests] == [["one"], ["two", "three", "four"]]
    assert [v["replies"][0]["text"] for v in views] == ["first answer"] + ["second answer"] * 3


async def test_history_comes_before_the_new_messages(client: AppClient, fake: FakeOllama) -> None:
    await wait_handled(client, await send(client, "h", "my name is Ada"))
    await wait_handled(client, await send(client, "h", "what is my name?"))
    contents = [m["content"] for m in fake.chat_requests[1]["messages"]]
    assert contents.index("my name is Ada") < contents.index("echo: my name is Ada")
    assert contents[-1] == "what is my name?"


@pytest.mark.parametrize(
    ("changes", "sizes"),
    [
        ({}, [20, 20, 5]),
        ({"batch_max_messages": 30}, [30, 15]),
    ],  # the default, then HEARTH_BATCH_MAX_MESSAGES
)
async def test_after_an_outage_the_backlog_is_answered_in_capped_turns_in_order(
    make_client: MakeClient, settings: Settings, fake: FakeOllama, changes: dict[str, int], sizes: list[int]
) -> None:
    # Messages accepted while Hearth was down (a redeployment, a long night): 45 of one chat.
    store = await Store.open(settings.database_url)
    sender, at = Address("api", "backlog"), datetime.now(UTC)
    inbounds = [Inbound("api", f"backlog/{n}", sender, f"m{n}", at) for n in range(45)]
    ids = [str(a.message_id) for a in await inbox.accept(store, inbounds, at)]
    await store.close()
    client = await make_client(**changes)  # routes them again at start
    views = [await wait_handled(client, message_id) for message_id in ids]
    assert {v["status"] for v in views} == {"handled"}
    batches = [user_texts(r) for r in fake.chat_requests]
    assert [len(b) for b in batches] == sizes
    assert [text for batch in batches for text in batch] == [f"m{n}" for n in range(45)]
