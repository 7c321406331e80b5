"""The Graph API sender against the fake Graph server: sends, read receipts and each error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from assistant.channels.base import SendError
from assistant.channels.split import send_split
from assistant.channels.whatsapp.send import (
    WhatsAppSender,
    classify_error,
    recipient,
    template_parameter,
)
from assistant.types import Address
from tests.fakes.base import Failure
from tests.fakes.graph import GraphFake

TO = Address("whatsapp", "+16505551234")


@pytest.fixture
async def graph() -> AsyncIterator[GraphFake]:
    async with GraphFake() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def sender_for(
    graph: GraphFake,
    session: aiohttp.ClientSession,
    token: str = "test-token",
    timeout_s: float = 5,
) -> WhatsAppSender:
    return WhatsAppSender(
        session, token=token, phone_number_id="1065", base_url=graph.url, timeout_s=timeout_s
    )


async def test_send_text_posts_the_documented_body(graph: GraphFake, session: aiohttp.ClientSession) -> None:
    wamid = await sender_for(graph, session).send_text(TO, "Hello")
    assert wamid.startswith("wamid.")
    (sent,) = graph.sent
    assert sent["version"] == "v26.0"
    assert sent["phone_number_id"] == "1065"
    assert sent["to"] == "16505551234"
    assert sent["recipient_type"] == "individual"
    assert sent["text"] == {"preview_url": False, "body": "Hello"}


async def test_send_to_a_user_id_uses_the_recipient_field(
    graph: GraphFake, session: aiohttp.ClientSession
) -> None:
    await sender_for(graph, session).send_text(Address("whatsapp", "US.1349"), "Hi")
    assert graph.sent[0]["recipient"] == "US.1349"
    assert "to" not in graph.sent[0]


async def test_send_template(graph: GraphFake, session: aiohttp.ClientSession) -> None:
    await sender_for(graph, session).send_template(TO, "reminder", "Take\nthe\tbins out", "en_GB")
    template = graph.sent[0]["template"]
    assert template["name"] == "reminder"
    assert template["language"] == {"code": "en_GB"}
    assert template["components"][0]["parameters"] == [{"type": "text", "text": "Take the bins out"}]


async def test_mark_read(graph: GraphFake, session: aiohttp.ClientSession) -> None:
    await sender_for(graph, session).mark_read("wamid.IN", typing=True)
    assert graph.read == ["wamid.IN"]
    assert graph.sent == []


@pytest.mark.parametrize(
    ("failure", "retryable", "template_needed", "code"),
    [
        (Failure(400, 130429, "Rate limit hit"), True, False, "130429"),
        (Failure(400, 131056, "Pair rate limit hit"), True, False, "131056"),
        (Failure(500, 1, "An unknown error occurred"), True, False, "1"),
        (Failure(503, 131016, "Service unavailable"), True, False, "131016"),
        (Failure(429, 80007, "Rate limit issues"), True, False, "80007"),
        (Failure(400, 131047, "Re-engagement message"), False, True, "131047"),
        (Failure(400, 131026, "Message undeliverable"), False, False, "131026"),
        (Failure(400, 100, "Invalid parameter"), False, False, "100"),
    ],
)
async def test_errors_are_classified(
    graph: GraphFake,
    session: aiohttp.ClientSession,
    failure: Failure,
    retryable: bool,
    template_needed: bool,
    code: str,
) -> None:
    graph.fail(failure)
    with pytest.raises(SendError) as caught:
        await sender_for(graph, session).send_text(TO, "Hello")
    error = caught.value
    assert (error.retryable, error.template_needed, error.code) == (
        retryable,
        template_needed,
        code,
    )
    assert error.status == failure.status
    assert failure.message in error.reason
    assert graph.sent == []


async def test_a_wrong_token_is_permanent(graph: GraphFake, session: aiohttp.ClientSession) -> None:
    with pytest.raises(SendError) as caught:
        await sender_for(graph, session, token="stale").send_text(TO, "Hello")
    assert (caught.value.retryable, caught.value.code, caught.value.status) == (False, "190", 401)


async def test_a_slow_server_is_a_retryable_timeout(graph: GraphFake, session: aiohttp.ClientSession) -> None:
    graph.fail(Failure(200, delay_s=1.0))
    with pytest.raises(SendError) as caught:
        await sender_for(graph, session, timeout_s=0.2).send_text(TO, "Hello")
    assert caught.value.retryable
    assert "Timeout" in caught.value.reason


async def test_a_closed_port_is_a_retryable_network_error(session: aiohttp.ClientSession) -> None:
    async with GraphFake() as gone:
        url = gone.url
    sender = WhatsAppSender(session, token="t", phone_number_id="1", base_url=url)
    with pytest.raises(SendError) as caught:
        await sender.send_text(TO, "Hello")
    assert caught.value.retryable


async def test_recovers_after_queued_failures(graph: GraphFake, session: aiohttp.ClientSession) -> None:
    graph.fail(Failure(500), Failure(400, 130429))
    sender = sender_for(graph, session)
    for _ in range(2):
        with pytest.raises(SendError):
            await sender.send_text(TO, "Hello")
    assert await sender.send_text(TO, "Hello")
    assert graph.attempts == 3
    assert len(graph.sent) == 1


async def test_long_replies_are_sent_in_parts_within_the_limit(
    graph: GraphFake, session: aiohttp.ClientSession
) -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(400))
    ids = await send_split(sender_for(graph, session), TO, text)
    bodies = [sent["text"]["body"] for sent in graph.sent]
    assert len(ids) == len(bodies) == 3
    assert all(len(body) <= 4096 for body in bodies)
    assert all(body.endswith(".") for body in bodies)


@pytest.mark.parametrize(
    ("to", "fields"),
    [
        (Address("whatsapp", "+16505551234"), {"to": "16505551234"}),
        (Address("whatsapp", "16505551234"), {"to": "16505551234"}),
        (Address("whatsapp", "US.13491208655302741918"), {"recipient": "US.13491208655302741918"}),
        (Address("whatsapp", "US.ENT.1181"), {"recipient": "US.ENT.1181"}),
    ],
)
def test_recipient(to: Address, fields: dict[str, str]) -> None:
    assert recipient(to) == fields


def test_template_parameter_flattens_and_caps() -> None:
    assert template_parameter("a\n\nb\t  c") == "a b c"
    capped = template_parameter("word " * 500)
    assert len(capped) == 1000
    assert capped.endswith("…")


@pytest.mark.parametrize(
    ("status", "body", "retryable", "code"),
    [
        (502, None, True, None),
        (502, "<html>bad gateway</html>", True, None),
        (400, {"error": "text"}, False, None),
        (400, {"error": {"code": True}}, False, None),
        (404, {}, False, None),
    ],
)
def test_classify_odd_bodies(status: int, body: object, retryable: bool, code: str | None) -> None:
    error = classify_error(status, body)
    assert (error.retryable, error.code) == (retryable, code)
    assert error.reason
