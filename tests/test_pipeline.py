"""What the person hears when a turn fails inside Hearth: a fixed sentence, never the exception; the
log has the rest, and the chat goes on."""

from __future__ import annotations

import pytest

from assistant.pipeline import SORRY
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient
from tests.fakes.ollama import FakeOllama, Step


async def test_an_unreadable_answer_gets_the_fixed_sorry(
    client: AppClient, fake: FakeOllama, caplog: pytest.LogCaptureFixture
) -> None:
    fake.push(Step(content="an answer in a broken stream", garbled=True))
    view = await wait_handled(client, await send(client, "s", "hello"))
    assert view["status"] == "failed"
    assert [r["text"] for r in view["replies"]] == [SORRY]
    assert "JSONDecodeError" in caplog.text
    assert "turn for chat" in caplog.text

    view = await wait_handled(client, await send(client, "s", "still there?"))
    assert [r["text"] for r in view["replies"]] == ["echo: still there?"]
    said = [e["text"] for e in await transcript(client, "s") if e["role"] == "assistant"]
    assert said == [SORRY, "echo: still there?"]
    assert len(fake.chat_requests) == 2
