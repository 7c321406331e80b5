"""web_search in the running app: offered only with HEARTH_SEARCH_URL, results reach the model as data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api import send, transcript, wait_handled
from tests.conftest import MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.searxng import SearxngFake


@pytest.fixture
async def searxng() -> AsyncIterator[SearxngFake]:
    async with SearxngFake() as server:
        yield server


def offered(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools") or []]


def researcher(body: dict[str, Any]) -> Step:
    """A model that searches when asked something current, then answers from what the tool gave."""
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        found = json.loads("\n".join(messages[-1]["content"].split("\n")[1:-1]))
        first = found["results"][0]
        return Step(content=f"{first['snippet']} (source: {first['url']})")
    return Step(tool_calls=[{"name": "web_search", "arguments": {"query": "Lisbon weather today"}}])


async def test_a_question_that_needs_search(
    make_client: MakeClient, fake: FakeOllama, searxng: SearxngFake
) -> None:
    fake.responder = researcher
    client = await make_client(search_url=searxng.url)
    view = await wait_handled(client, await send(client, "anna", "What's the weather in Lisbon today?"))
    assert view["status"] == "handled"
    assert view["replies"][0]["text"] == (
        "Lisbon: sunny, 24 °C today, light wind from the north. (source: https://weather.example/lisbon)"
    )
    assert searxng.queries[0]["params"]["q"] == "Lisbon weather today"
    assert "web_search" in offered(fake.chat_requests[0])
    tool_message = fake.chat_requests[1]["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"].startswith('<untrusted source="tool web_search">\n')
    assert [m["role"] for m in await transcript(client, "anna")] == ["user", "assistant"]


async def test_a_failing_search_is_told_to_the_model(
    make_client: MakeClient, fake: FakeOllama, searxng: SearxngFake
) -> None:
    searxng.formats = ["html"]
    client = await make_client(search_url=searxng.url)
    view = await wait_handled(client, await send(client, "anna", 'call:web_search {"query": "lisbon"}'))
    assert "web search failed: the search server refused the JSON format" in view["replies"][0]["text"]


async def test_without_a_search_url_the_tool_is_not_offered(
    make_client: MakeClient, fake: FakeOllama
) -> None:
    client = await make_client()
    await wait_handled(client, await send(client, "anna", "hello"))
    assert "web_search" not in offered(fake.chat_requests[0])
    assert "get_time" in offered(fake.chat_requests[0])
