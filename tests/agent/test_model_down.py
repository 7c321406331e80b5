"""When Ollama is down or stalls, the person hears once, and the message is answered when it is back."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from assistant.backoff import MAX_DELAY_S
from assistant.keys import ROUTER, STORE
from assistant.pipeline import MODEL_DOWN
from assistant.store.tables import Message
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step


async def test_down_then_back_answers_once(client: AppClient, fake: FakeOllama) -> None:
    fake.down = True
    message_id = await send(client, "d", "are you there?")
    view = await wait_handled(client, message_id, wait_s=0.6)
    assert view["status"] == "accepted"
    fake.down = False
    view = await wait_handled(client, message_id)
    assert view["status"] == "handled"
    assert [r["text"] for r in view["replies"]] == ["echo: are you there?"]
    texts = [e["text"] for e in await transcript(client, "d") if e["role"] == "assistant"]
    assert len([t for t in texts if "not available" in t]) == 1
    assert texts[-1] == "echo: are you there?"


async def test_a_stall_mid_stream_is_retried(make_client: MakeClient, fake: FakeOllama) -> None:
    client = await make_client(model_stall_timeout_s=0.2)
    fake.push(Step(content="partial answer that never ends", stall_after_s=5))
    view = await wait_handled(client, await send(client, "s", "hello"))
    assert view["status"] == "handled"
    assert view["replies"][0]["text"] == "echo: hello"


async def test_an_error_status_is_retried(client: AppClient, fake: FakeOllama) -> None:
    fake.push(Step(status=500, error="out of memory"))
    view = await wait_handled(client, await send(client, "e", "hello"))
    assert view["replies"][0]["text"] == "echo: hello"
    assert len(fake.chat_requests) == 2


async def test_messages_sent_while_down_wait_their_turn(client: AppClient, fake: FakeOllama) -> None:
    fake.down = True
    first = await send(client, "q", "first")
    await asyncio.sleep(0.1)
    second = await send(client, "q", "second")
    await asyncio.sleep(0.1)
    fake.down = False
    await wait_handled(client, first)
    await wait_handled(client, second)
    said = [e["text"] for e in await transcript(client, "q") if e["role"] == "assistant"]
    assert said[-1] == "echo: first | second"


async def test_after_a_thousand_tries_a_message_still_waits_at_most_the_cap(
    client: AppClient, fake: FakeOllama, caplog: pytest.LogCaptureFixture
) -> None:
    fake.down = True
    message_id = int(await send(client, "o", "are you there?"))
    await until_message(client, message_id, lambda m: m.attempts >= 1)

    def long_outage(session: Session) -> None:
        # As about 64 hours of retries at the five-minute cap would have left it.
        message = session.get(Message, message_id)
        assert message is not None
        message.attempts, message.next_attempt_at = 1100, None

    await client.app[STORE].write(long_outage)
    client.app[ROUTER].notify((await until_message(client, message_id, lambda m: True)).chat_id)
    message = await until_message(client, message_id, lambda m: m.attempts == 1101)
    assert message.next_attempt_at is not None
    assert 0 < (message.next_attempt_at - datetime.now(UTC)).total_seconds() <= MAX_DELAY_S
    assert "failed outside the pipeline" not in caplog.text


async def until_message(client: AppClient, message_id: int, check: Callable[[Message], bool]) -> Message:
    async with asyncio.timeout(5):
        while True:
            message = await client.app[STORE].read(lambda s: s.get(Message, message_id))
            if message is not None and check(message):
                return message
            await asyncio.sleep(0.02)


def notices(entries: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in entries if e["role"] == "assistant" and e["text"] == MODEL_DOWN]


async def until_notice(client: AppClient, chat: str, timeout_s: float = 5) -> None:
    async with asyncio.timeout(timeout_s):
        while not notices(await transcript(client, chat)):
            await asyncio.sleep(0.02)


async def test_the_person_hears_at_the_first_failure(make_client: MakeClient, fake: FakeOllama) -> None:
    # The next try is a minute away: the notice can only come from the first one.
    client = await make_client(model_retry_s=60)
    fake.down = True
    message_id = await send(client, "n", "hello?")
    await until_notice(client, "n")
    assert (await wait_handled(client, message_id, wait_s=0))["status"] == "accepted"


async def test_retries_wait_longer_each_time(make_client: MakeClient, fake: FakeOllama) -> None:
    client = await make_client(model_retry_s=0.2)
    tried_at: list[float] = []

    def loading(body: dict[str, Any]) -> Step:
        tried_at.append(time.monotonic())
        return Step(status=503, error="server busy")

    fake.responder = loading
    await send(client, "r", "hello")
    await asyncio.sleep(1.6)
    gaps = [later - earlier for earlier, later in itertools.pairwise(tried_at)]
    # 0.2 s, then 0.4 s, 0.8 s ..., each cut by up to half: at most five tries in 1.6 s.
    assert 2 <= len(tried_at) <= 5, gaps
    assert all(gap >= 0.2 * 2**n * 0.5 - 0.02 for n, gap in enumerate(gaps)), gaps


async def test_a_model_missing_mid_run_is_waited_for(
    client: AppClient, fake: FakeOllama, caplog: pytest.LogCaptureFixture
) -> None:
    await wait_handled(client, await send(client, "m", "first"))
    capabilities = fake.models.pop("qwen3:4b")
    message_id = await send(client, "m", "second")
    await until_notice(client, "m")
    assert (await wait_handled(client, message_id, wait_s=0.3))["status"] == "accepted"
    assert "hearth pull" in caplog.text
    fake.models["qwen3:4b"] = capabilities
    view = await wait_handled(client, message_id)
    assert [r["text"] for r in view["replies"]] == ["echo: second"]
    assert len(notices(await transcript(client, "m"))) == 1


@pytest.mark.parametrize(
    "broken",
    [
        Step(content="half of an answer", cut=True),
        Step(content="half of an answer", drop=True),
        Step(content="half of an answer", failed_midway=True, error="llama runner process has terminated"),
    ],
    ids=["ends-early", "connection-dropped", "error-chunk"],
)
async def test_a_stream_broken_before_its_final_chunk_is_retried(
    client: AppClient, fake: FakeOllama, broken: Step
) -> None:
    fake.push(broken)
    view = await wait_handled(client, await send(client, "b", "hello"))
    assert [r["text"] for r in view["replies"]] == ["echo: hello"]
    assert len(fake.chat_requests) == 2
    assert not any("half" in e["text"] for e in await transcript(client, "b"))


async def test_no_first_token_in_time_is_retried(make_client: MakeClient, fake: FakeOllama) -> None:
    client = await make_client(model_first_token_timeout_s=0.3, model_stall_timeout_s=10)
    fake.push(Step(content="too late", delay_s=2))
    view = await wait_handled(client, await send(client, "f", "hello"))
    assert [r["text"] for r in view["replies"]] == ["echo: hello"]


async def test_an_answer_over_the_total_time_is_retried(make_client: MakeClient, fake: FakeOllama) -> None:
    client = await make_client(model_total_timeout_s=0.5, model_stall_timeout_s=10)
    fake.push(Step(content="slow but steady words", stall_after_s=2))
    view = await wait_handled(client, await send(client, "t", "hello"))
    assert [r["text"] for r in view["replies"]] == ["echo: hello"]


async def test_the_model_never_sees_the_notice(client: AppClient, fake: FakeOllama) -> None:
    fake.down = True
    first = await send(client, "n", "are you there?")
    await wait_handled(client, first, wait_s=0.6)
    fake.down = False
    await wait_handled(client, first)
    await wait_handled(client, await send(client, "n", "and now?"))
    texts = [str(m.get("content")) for m in fake.chat_requests[-1]["messages"]]
    assert "echo: are you there?" in texts
    assert not any(MODEL_DOWN in t for t in texts)
