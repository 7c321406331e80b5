"""The chat call on the wire against the fake Ollama: long lines, error chunks, refusals, the body."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assistant.agent import wire
from assistant.agent.model import OllamaModel, model_options
from assistant.errors import ModelMissing, ModelUnavailable, ServerFailing
from assistant.settings import Settings
from tests.fakes.ollama import FakeOllama, Step

ASKED = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def model(fake: FakeOllama) -> AsyncIterator[OllamaModel]:
    found = OllamaModel(model_options(Settings(ollama_url=fake.url)))
    yield found
    await found.close()


async def test_a_tool_call_longer_than_a_read_buffer_arrives_whole(
    fake: FakeOllama, model: OllamaModel
) -> None:
    text = "".join(f"line {n}\n" for n in range(40_000))  # about 400 kB in one NDJSON line
    fake.push(Step(tool_calls=[{"name": "write_file", "arguments": {"path": "a.txt", "text": text}}]))
    reply = await model.chat(ASKED, None)
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [
        ("write_file", {"path": "a.txt", "text": text})
    ]


async def test_an_error_chunk_in_the_stream_is_the_server_failing(
    fake: FakeOllama, model: OllamaModel
) -> None:
    fake.push(
        Step(content="half of an answer", failed_midway=True, error="llama runner process has terminated")
    )
    with pytest.raises(ServerFailing, match="llama runner process has terminated"):
        await model.chat(ASKED, None)


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, ModelMissing), (400, ModelUnavailable), (500, ServerFailing)],
)
async def test_a_refusal_keeps_its_meaning(
    fake: FakeOllama, model: OllamaModel, status: int, error: type[Exception]
) -> None:
    fake.push(Step(status=status, error="no such thing"))
    with pytest.raises(error) as raised:
        await model.chat(ASKED, None)
    assert isinstance(raised.value, ServerFailing) == (status >= 500)
    if status != 404:
        assert str(raised.value) == f"ollama answered {status}: no such thing"


async def test_the_body_is_what_ollama_documents(fake: FakeOllama, model: OllamaModel) -> None:
    tool = {"type": "function", "function": {"name": "now", "description": "the time", "parameters": {}}}
    asked: list[dict[str, Any]] = [
        {"role": "system", "content": "be brief"},
        {"role": "assistant", "content": "", "tool_calls": []},
    ]
    await model.chat([*asked, *ASKED], [tool])
    body = fake.chat_requests[-1]
    assert body["model"] == model.name
    assert body["stream"] is True
    assert body["options"] == {"num_ctx": model.options.num_ctx}
    assert body["tools"] == [tool]
    # Empty fields are left out, as the `ollama` package leaves them out.
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "assistant"}, *ASKED]


def test_the_body_is_the_plain_encoding_of_the_request() -> None:
    """The messages and tools are written apart from the rest of the body, and the usual message
    (a role and a text) by hand: the result must be what one json.dumps of the request gives."""
    functions = [
        {"name": "now", "description": "l'heure — «vite»", "parameters": {}},
        {"name": "say", "description": 'a "quote"\n', "parameters": {"a": 1}},
    ]
    tools = [{"type": "function", "function": f} for f in functions]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": 'quotes " and \\ backslashes, \t tabs and \x00 controls'},
        {"role": "user", "content": "émoji 🔥, 日本語, \u2028 separators"},
        {"content": "the keys the other way round", "role": "assistant"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "now", "arguments": {}}}]},
        {"role": "tool", "tool_name": "now", "content": "12:00"},
        {"role": "user", "content": "look", "images": ["aGVsbG8="]},
        {"role": "user", "content": ""},
    ]
    request = wire.ChatRequest("qwen3:4b", 8192, "5m", think=False)
    for given in (tools, None, []):
        sent = json.loads(wire.body(request, messages, given))
        expected = {
            "model": "qwen3:4b",
            "messages": [{k: v for k, v in m.items() if v} for m in messages],
            "stream": True,
            "options": {"num_ctx": 8192},
            "keep_alive": "5m",
            "think": False,
        }
        if given:
            expected["tools"] = given
        assert sent == expected
    # The text itself, not only its meaning: unescaped characters as ensure_ascii=False writes them.
    plain = json.dumps(messages[1]["content"], ensure_ascii=False)
    assert plain.encode() in wire.body(request, messages[1:2], None)
