"""The fake Ollama server holds up against the real `ollama` client."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.ollama_wire import echo_responder, embed, parse_tool_calls, split_content

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with FakeOllama() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOllama) -> AsyncIterator[ollama.AsyncClient]:
    async with ollama.AsyncClient(host=fake.url, timeout=httpx.Timeout(5.0)) as c:
        yield c


async def test_chat_without_stream_echoes_the_user(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    reply = await client.chat("qwen3:4b", [{"role": "user", "content": "hi"}])
    assert reply.message.content == "echo: hi"
    assert reply.done_reason == "stop"
    assert reply.eval_count == 5
    assert fake.chat_requests[0]["stream"] is False


async def test_streamed_chunks_join_to_the_scripted_content(
    fake: FakeOllama, client: ollama.AsyncClient
) -> None:
    fake.push(Step(content="one two three four five", eval_count=7))
    stream = await client.chat("qwen3:4b", [{"role": "user", "content": "x"}], stream=True)
    chunks = [chunk async for chunk in stream]
    assert len(chunks) > 2
    assert "".join(c.message.content or "" for c in chunks) == "one two three four five"
    assert [c.done for c in chunks][-1] is True
    assert chunks[-1].eval_count == 7


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_call_reaches_the_client(
    fake: FakeOllama, client: ollama.AsyncClient, stream: bool
) -> None:
    text = 'call:get_time {"timezone": "UTC"}'
    c = client
    messages = [{"role": "user", "content": text}]
    if stream:
        parts = [p async for p in await c.chat("qwen3:4b", messages, tools=[], stream=True)]
        calls = [call for p in parts for call in p.message.tool_calls or []]
    else:
        calls = list((await c.chat("qwen3:4b", messages)).message.tool_calls or [])
    assert [(x.function.name, dict(x.function.arguments)) for x in calls] == [
        ("get_time", {"timezone": "UTC"})
    ]


async def test_an_http_error_raises_with_its_status(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    fake.push(Step(status=500, error="out of memory"))
    with pytest.raises(ollama.ResponseError) as caught:
        await client.chat("qwen3:4b", [{"role": "user", "content": "x"}])
    assert (caught.value.status_code, caught.value.error) == (500, "out of memory")


@pytest.mark.parametrize(
    ("models", "tools", "status"),
    [
        ({"qwen3:4b": ["completion", "tools"]}, None, 404),
        ({"llama3.2:1b": ["completion"]}, [{"type": "function"}], 400),
    ],
)
async def test_the_server_refuses_like_ollama(
    models: dict[str, list[str]], tools: list[dict[str, str]] | None, status: int
) -> None:
    async with FakeOllama(models=models) as fake, ollama.AsyncClient(host=fake.url) as client:
        with pytest.raises(ollama.ResponseError) as caught:
            await client.chat("llama3.2:1b", [{"role": "user", "content": "x"}], tools=tools)
    assert caught.value.status_code == status


async def test_down_answers_503(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    fake.down = True
    with pytest.raises(ollama.ResponseError) as caught:
        await client.list()
    assert caught.value.status_code == 503


async def test_a_stall_trips_the_client_read_timeout(fake: FakeOllama) -> None:
    fake.push(Step(content="slow answer here", stall_after_s=10))
    timeout = httpx.Timeout(5.0, read=0.2)
    async with ollama.AsyncClient(host=fake.url, timeout=timeout) as client:
        stream = await client.chat("qwen3:4b", [], stream=True)
        with pytest.raises(httpx.ReadTimeout):
            async for _ in stream:
                pass


async def chunks_of(client: ollama.AsyncClient) -> list[ollama.ChatResponse]:
    stream = await client.chat("qwen3:4b", [{"role": "user", "content": "x"}], stream=True)
    return [chunk async for chunk in stream]


async def test_a_cut_stream_ends_without_its_final_chunk(
    fake: FakeOllama, client: ollama.AsyncClient
) -> None:
    fake.push(Step(content="half of an answer", cut=True))
    chunks = await chunks_of(client)
    assert chunks
    assert not any(chunk.done for chunk in chunks)


async def test_a_dropped_stream_breaks_the_chunked_body(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    fake.push(Step(content="half of an answer", drop=True))
    with pytest.raises(httpx.RemoteProtocolError):
        await chunks_of(client)


async def test_a_garbled_line_is_not_json(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    fake.push(Step(content="an answer", garbled=True))
    with pytest.raises(json.JSONDecodeError):
        await chunks_of(client)


async def test_an_async_responder_sees_the_request_body() -> None:
    async def responder(body: dict[str, Any]) -> Step:
        await asyncio.sleep(0)
        return Step(content=f"{len(body['messages'])} messages", thinking="hmm")

    models = {"qwen3:4b": ["completion", "tools", "thinking"]}
    fake = FakeOllama(models=models, responder=responder)
    async with fake, ollama.AsyncClient(host=fake.url) as client:
        reply = await client.chat("qwen3:4b", [{"role": "user", "content": "x"}], think=True)
    assert (reply.message.content, reply.message.thinking) == ("1 messages", "hmm")
    assert fake.chat_requests[0]["think"] is True


async def test_concurrent_chats_are_counted(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    fake.push(*[Step(content="ok", delay_s=0.2)] * 3)
    c = client
    await asyncio.gather(*(c.chat("qwen3:4b", []) for _ in range(3)))
    assert (fake.in_flight, fake.max_in_flight) == (0, 3)


async def test_list_show_pull_and_embed(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    c = client
    assert [m.model for m in (await c.list()).models] == ["qwen3:4b"]
    assert "tools" in ((await c.show("qwen3:4b")).capabilities or [])
    progress = [p.status async for p in await c.pull("llama3.2:1b", stream=True)]
    assert progress[0] == "pulling manifest"
    assert progress[-1] == "success"
    assert (await c.pull("qwen2.5:0.5b")).status == "success"
    assert fake.pulled == ["llama3.2:1b", "qwen2.5:0.5b"]
    assert (await c.show("llama3.2:1b")).capabilities == ["completion", "tools"]
    vectors = (await c.embed("llama3.2:1b", ["a cat", "the cat"])).embeddings
    assert [len(v) for v in vectors] == [64, 64]
    with pytest.raises(ollama.ResponseError):
        await c.show("missing:1b")


@pytest.mark.parametrize(
    ("messages", "content", "calls"),
    [
        ([{"role": "user", "content": "a"}], "echo: a", []),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
                {"role": "user", "content": "d"},
            ],
            "echo: c | d",
            [],
        ),
        ([{"role": "user", "content": "call:ping"}], "", [{"name": "ping", "arguments": {}}]),
        (
            [{"role": "user", "content": "call:ping {}"}, {"role": "tool", "content": "pong"}],
            "tool said: pong",
            [],
        ),
    ],
)
def test_echo_responder(messages: list[dict[str, str]], content: str, calls: list[object]) -> None:
    step = echo_responder({"messages": messages})
    assert (step.content, step.tool_calls) == (content, calls)


@pytest.mark.parametrize(
    ("text", "names"),
    [('call:a {} and call:b {"x": {"y": 1}}', ["a", "b"]), ("call:c {bad", ["c"]), ("no", [])],
)
def test_parse_tool_calls(text: str, names: list[str]) -> None:
    assert [c["name"] for c in parse_tool_calls(text)] == names


@pytest.mark.parametrize("text", ["", "one", "a b c d e f g ", "  lead and trail  "])
def test_split_content_joins_back(text: str) -> None:
    assert "".join(split_content(text)) == text


def test_embeddings_score_shared_words_higher() -> None:
    def cosine(a: str, b: str) -> float:
        return sum(x * y for x, y in zip(embed(a), embed(b), strict=True))

    assert cosine("remind me to buy milk", "buy milk") > cosine("remind me to buy milk", "weather")


async def test_standalone_process_answers_version() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = ["-m", "tests.fakes.ollama", "--port", str(port), "--model", "m:1b=completion"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
        assert line.decode().strip() == f"listening on http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/api/version")).json() == {"version": "0.33.0"}
            assert (await http.get("/api/tags")).json()["models"][0]["name"] == "m:1b"
            assert (await http.head("/api/tags")).status_code == 200
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
