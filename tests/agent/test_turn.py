"""The agent's tool loop, driven through the API against the fake Ollama."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assistant.agent import prompt
from assistant.agent.turn import NO_ANSWER
from assistant.jobs.app import NO_JOBS
from tests.api import send, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.searxng import SearxngFake

TIME_CALL = {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}
NUM_CTX = 4096


@pytest.fixture
async def searxng() -> AsyncIterator[SearxngFake]:
    async with SearxngFake() as server:
        yield server


async def test_a_tool_call_is_run_and_its_result_fed_back(client: AppClient, fake: FakeOllama) -> None:
    fake.push(Step(tool_calls=[TIME_CALL]), Step(content="It is evening in Tokyo."))
    view = await wait_handled(client, await send(client, "t", "what time is it in Tokyo?"))
    assert view["replies"][0]["text"] == "It is evening in Tokyo."
    first, second = fake.chat_requests
    assert "get_time" in [t["function"]["name"] for t in first["tools"]]
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["tool_name"] == "get_time"
    assert json.loads(tool_message["content"])["timezone"] == "Asia/Tokyo"
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "get_time"


async def test_a_tool_error_goes_back_to_the_model(client: AppClient, fake: FakeOllama) -> None:
    bad = {"name": "get_time", "arguments": {"timezone": "Mars/Olympus"}}
    fake.push(Step(tool_calls=[bad]), Step(content="Sorry, no such place."))
    await wait_handled(client, await send(client, "t", "time on Mars?"))
    result = json.loads(fake.chat_requests[1]["messages"][-1]["content"])
    assert "Mars/Olympus" in result["error"]


async def test_an_unknown_tool_is_an_error_result(client: AppClient, fake: FakeOllama) -> None:
    fake.push(Step(tool_calls=[{"name": "launch", "arguments": {}}]), Step(content="ok"))
    await wait_handled(client, await send(client, "t", "launch it"))
    assert "no tool named 'launch'" in fake.chat_requests[1]["messages"][-1]["content"]


async def test_the_step_limit_ends_the_loop(make_client: MakeClient, fake: FakeOllama) -> None:
    client = await make_client(max_steps=3)
    fake.push(*[Step(tool_calls=[TIME_CALL])] * 2, Step(content="Here is what I found."))
    view = await wait_handled(client, await send(client, "t", "loop forever"))
    assert view["replies"][0]["text"] == "Here is what I found."
    assert len(fake.chat_requests) == 3
    assert not fake.chat_requests[-1].get("tools")
    assert "without tools" in fake.chat_requests[-1]["messages"][-1]["content"]


async def test_a_tool_call_written_as_text_is_run(client: AppClient, fake: FakeOllama) -> None:
    written = '```json\n{"name": "get_time", "arguments": {"timezone": "UTC"}}\n```'
    fake.push(Step(content=written), Step(content="It is noon UTC."))
    view = await wait_handled(client, await send(client, "t", "time?"))
    assert view["replies"][0]["text"] == "It is noon UTC."
    assert fake.chat_requests[1]["messages"][-1]["role"] == "tool"


async def test_the_request_carries_context_size_and_keep_alive(client: AppClient, fake: FakeOllama) -> None:
    await wait_handled(client, await send(client, "t", "hi"))
    request = fake.chat_requests[0]
    assert request["options"]["num_ctx"] == 16384
    assert request["keep_alive"] == "30m"
    assert request["stream"] is True
    assert request["model"] == "qwen3:4b"


async def test_a_tool_call_on_the_last_step_is_not_run(make_client: MakeClient, fake: FakeOllama) -> None:
    client = await make_client(max_steps=2)
    schedule = {"name": "schedule_reminder", "arguments": {"text": "stretch", "every": "1d"}}
    fake.push(Step(tool_calls=[TIME_CALL]), Step(tool_calls=[schedule]))
    view = await wait_handled(client, await send(client, "t", "what time is it?"))
    assert [r["text"] for r in view["replies"]] == [NO_ANSWER]
    assert len(fake.chat_requests) == 2
    jobs = await wait_handled(client, await send(client, "t", "/jobs"))
    assert [r["text"] for r in jobs["replies"]] == [NO_JOBS]


async def test_a_call_written_as_text_on_the_last_step_is_never_shown(
    make_client: MakeClient, fake: FakeOllama
) -> None:
    client = await make_client(max_steps=2)
    written = '{"name": "get_time", "arguments": {"timezone": "UTC"}}'
    fake.push(Step(tool_calls=[TIME_CALL]), Step(content=written))
    view = await wait_handled(client, await send(client, "t", "what time is it?"))
    assert [r["text"] for r in view["replies"]] == [NO_ANSWER]


async def test_thinking_never_reaches_the_person(client: AppClient, fake: FakeOllama) -> None:
    fake.push(Step(content="<think>\nThey greet me; greet back.\n</think>\n\nHello!"))
    view = await wait_handled(client, await send(client, "t", "hi"))
    assert [r["text"] for r in view["replies"]] == ["Hello!"]


@pytest.mark.parametrize("content", ["", "  \n ", "<think>I am not sure.</think>"])
async def test_an_empty_answer_gets_a_fixed_sentence(
    client: AppClient, fake: FakeOllama, content: str
) -> None:
    fake.push(Step(content=content))
    view = await wait_handled(client, await send(client, "t", "hmm"))
    assert view["status"] == "handled"
    assert [r["text"] for r in view["replies"]] == [NO_ANSWER]


@pytest.mark.parametrize(("capabilities", "think"), [(["tools", "thinking"], False), (["tools"], None)])
async def test_a_thinking_model_is_asked_not_to_think(
    make_client: MakeClient, fake: FakeOllama, capabilities: list[str], think: bool | None
) -> None:
    fake.models["qwen3:4b"] = ["completion", *capabilities]
    client = await make_client()
    fake.push(Step(tool_calls=[TIME_CALL]))
    await wait_handled(client, await send(client, "t", "what time is it?"))
    assert len(fake.chat_requests) == 2
    assert [r.get("think") for r in fake.chat_requests] == [think, think]


LONG = "Lisbon " + "tram twenty-eight climbs past the cathedral and the castle walls " * 6


def search(query: str) -> dict[str, Any]:
    return {"name": "web_search", "arguments": {"query": query}}


async def test_the_turns_own_tool_results_are_kept_within_the_context(
    make_client: MakeClient, fake: FakeOllama, searxng: SearxngFake
) -> None:
    searxng.index = [
        {"title": f"Lisbon page {n}", "url": f"https://lisbon.example/{n}", "content": LONG} for n in range(5)
    ]
    client = await make_client(search_url=searxng.url, num_ctx=NUM_CTX)
    queries = [f"lisbon trams {n}" for n in range(4)]
    fake.push(*(Step(tool_calls=[search(q)]) for q in queries), Step(content="Take tram 28."))
    view = await wait_handled(client, await send(client, "trip", "plan a day in Lisbon"))
    assert view["replies"][0]["text"] == "Take tram 28."
    budget = prompt.request_budget(NUM_CTX)
    sizes = [prompt.request_tokens(r["messages"], r.get("tools")) for r in fake.chat_requests]
    assert max(sizes) <= budget < sizes[0] + 4 * (sizes[1] - sizes[0])  # four whole results would not fit
    results = [[m["content"] for m in r["messages"] if m["role"] == "tool"] for r in fake.chat_requests]
    # The oldest result gave way; the newer ones are as the model first read them, the newest whole.
    assert results[-1][:3] == [prompt.CUT_RESULT, results[2][1], results[3][2]]
    assert results[-1][3].startswith('<untrusted source="tool web_search">')
    assert len(results[-1][3]) == len(results[1][0])
    assert_paired(fake.chat_requests[-1]["messages"])


def assert_paired(messages: list[dict[str, Any]]) -> None:
    """Every call is followed by its own result, and every result follows its call."""
    for index, message in enumerate(messages):
        calls = message.get("tool_calls") or []
        answers = messages[index + 1 : index + 1 + len(calls)]
        assert [m.get("tool_name") for m in answers] == [c["function"]["name"] for c in calls]
    called = sum(len(m.get("tool_calls") or []) for m in messages)
    assert called == len([m for m in messages if m["role"] == "tool"])
