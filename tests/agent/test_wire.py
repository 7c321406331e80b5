"""The chat call on the wire against the fake Ollama: long lines, error chunks, refusals, the body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

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
