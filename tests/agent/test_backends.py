"""Several Ollama servers behind one Hearth: failing ones skipped, load spread, the model's holders chosen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from assistant.agent.backends import public_url
from assistant.agent.model import OllamaModel, model_options
from assistant.settings import Settings
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama


@pytest.fixture
async def other() -> AsyncIterator[FakeOllama]:
    async with FakeOllama() as server:
        yield server


async def _app(make_client: MakeClient, *servers: FakeOllama) -> AppClient:
    return await make_client(ollama_url=",".join(s.url for s in servers))


async def _answer_all(client: AppClient, count: int, chat: str = "c") -> None:
    ids = [await send(client, f"{chat}{n}", f"hello {n}") for n in range(count)]
    for message_id in ids:
        view = await wait_handled(client, message_id)
        assert view["status"] == "handled"
        assert view["replies"][0]["text"].startswith("echo: hello")


async def _metric(client: AppClient, name: str, server: FakeOllama) -> str:
    text = await (await client.get("/metrics")).text()
    prefix = f'{name}{{url="{server.url}"}} '
    return next(line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix))


async def _status(client: AppClient) -> str:
    view = await wait_handled(client, await send(client, "owner", "/status"))
    text: str = view["replies"][0]["text"]
    return text


async def _until(check: Callable[[], Awaitable[bool]], wait_s: float = 5.0) -> None:
    async with asyncio.timeout(wait_s):
        while not await check():
            await asyncio.sleep(0.02)


async def test_a_server_down_at_start_is_skipped(
    make_client: MakeClient, fake: FakeOllama, other: FakeOllama
) -> None:
    fake.down = True
    client = await _app(make_client, fake, other)
    await _answer_all(client, 4)
    assert fake.refused_chats == 0
    assert len(other.chat_requests) == 4
    assert await _metric(client, "hearth_ollama_up", fake) == "0"
    assert await _metric(client, "hearth_ollama_up", other) == "1"
    assert await _metric(client, "hearth_ollama_calls_total", other) == "4"
    text = await _status(client)
    assert f"Ollama {fake.url}: failing" in text
    assert f"Ollama {other.url}: healthy, 0 in flight, 4 calls" in text


async def test_a_call_to_a_server_that_fails_is_retried_on_another(
    make_client: MakeClient, fake: FakeOllama, other: FakeOllama
) -> None:
    client = await _app(make_client, fake, other)
    fake.down = True
    await _answer_all(client, 3)
    # The first call found it down and went on to the other at once; the later ones skipped it.
    assert fake.refused_chats == 1
    assert len(other.chat_requests) == 3
    said = [
        e["text"] for n in range(3) for e in await transcript(client, f"c{n}") if e["role"] == "assistant"
    ]
    assert not [text for text in said if "not available" in text]


async def test_load_spreads_over_healthy_servers(
    make_client: MakeClient, fake: FakeOllama, other: FakeOllama
) -> None:
    fake.delay_s = other.delay_s = 0.2
    client = await _app(make_client, fake, other)
    await _answer_all(client, 4)
    assert len(fake.chat_requests) == len(other.chat_requests) == 2
    assert fake.max_in_flight == other.max_in_flight == 1


async def test_a_server_without_the_model_is_not_chosen(make_client: MakeClient, fake: FakeOllama) -> None:
    async with FakeOllama(models={"llama3.2:latest": ["completion", "tools"]}) as bare:
        client = await _app(make_client, bare, fake)
        await _answer_all(client, 3)
        assert bare.chat_requests == []
        assert len(fake.chat_requests) == 3


async def test_a_failing_server_comes_back_into_use(
    make_client: MakeClient, fake: FakeOllama, other: FakeOllama
) -> None:
    fake.down = True
    client = await _app(make_client, fake, other)
    await _answer_all(client, 1, chat="before")
    fake.down = False

    async def healthy() -> bool:
        return await _metric(client, "hearth_ollama_up", fake) == "1"

    await _until(healthy)
    fake.delay_s = other.delay_s = 0.2
    await _answer_all(client, 2, chat="after")
    assert len(fake.chat_requests) == 1


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("https://user:secret@gpu.example:8443/ollama", "https://gpu.example:8443/ollama"),
        ("http://token@gpu.example", "http://gpu.example"),
    ],
)
def test_urls_are_shown_without_credentials(url: str, shown: str) -> None:
    assert public_url(url) == shown


async def test_each_server_runs_at_most_its_cap(fake: FakeOllama, other: FakeOllama) -> None:
    fake.delay_s = other.delay_s = 0.1
    options = model_options(Settings(ollama_url=f"{fake.url},{other.url}", max_concurrent_turns=1))
    model = OllamaModel(options)
    try:
        asked = [{"role": "user", "content": f"part {n}"} for n in range(6)]
        replies = await asyncio.gather(*(model.chat([message], None) for message in asked))
    finally:
        await model.close()
    assert [r.content for r in replies] == [f"echo: part {n}" for n in range(6)]
    assert fake.max_in_flight == other.max_in_flight == 1
    assert len(fake.chat_requests) + len(other.chat_requests) == 6
