"""The HTTP API channel, through a real app and the fake Ollama."""

from __future__ import annotations

import pytest

from assistant.channels.api import MAX_CHAT_CHARS, MAX_TEXT_CHARS
from tests.api import send, transcript, wait_handled
from tests.conftest import AUTH, AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step


async def test_a_message_is_accepted_then_answered(client: AppClient, fake: FakeOllama) -> None:
    fake.push(Step(content="Hello Anna."))
    message_id = await send(client, "anna", "hi there")
    view = await wait_handled(client, message_id)
    assert view["id"] == message_id
    assert view["status"] == "handled"
    assert [r["text"] for r in view["replies"]] == ["Hello Anna."]
    assert fake.chat_requests[0]["messages"][-1] == {"role": "user", "content": "hi there"}


async def test_the_same_client_id_is_one_message(client: AppClient, fake: FakeOllama) -> None:
    first = await send(client, "anna", "once", client_id="c-1")
    second = await send(client, "anna", "once", client_id="c-1")
    assert first == second
    await wait_handled(client, first)
    entries = await transcript(client, "anna")
    assert [e["role"] for e in entries] == ["user", "assistant"]
    assert len(fake.chat_requests) == 1


async def test_the_transcript_is_in_order(client: AppClient) -> None:
    for text in ("one", "two", "three"):
        await wait_handled(client, await send(client, "bo", text))
    entries = await transcript(client, "bo")
    assert [(e["role"], e["text"]) for e in entries] == [
        ("user", "one"),
        ("assistant", "echo: one"),
        ("user", "two"),
        ("assistant", "echo: two"),
        ("user", "three"),
        ("assistant", "echo: three"),
    ]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"}])
async def test_a_missing_or_wrong_token_is_refused(client: AppClient, headers: dict[str, str]) -> None:
    response = await client.post("/v1/messages", json={"chat": "a", "text": "b"}, headers=headers)
    assert response.status == 401
    assert (await client.get("/v1/messages/1", headers=headers)).status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "hi"}, "chat"),
        ({"chat": "a"}, "text"),
        ({"chat": "", "text": "hi"}, "chat"),
        ({"chat": "a", "text": 5}, "text"),
        ({"chat": "a", "text": "hi", "id": 7}, "id"),
    ],
)
async def test_missing_fields_are_named(client: AppClient, body: dict[str, object], field: str) -> None:
    response = await client.post("/v1/messages", json=body, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["field"] == field


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
async def test_malformed_json_is_a_bad_request(client: AppClient, raw: bytes) -> None:
    response = await client.post("/v1/messages", data=raw, headers=AUTH)
    assert response.status == 400
    assert "error" in await response.json()
    assert await transcript_is_empty(client)


async def transcript_is_empty(client: AppClient, chat: str = "a") -> bool:
    response = await client.get(f"/v1/chats/{chat}/messages", headers=AUTH)
    return response.status == 404


@pytest.mark.parametrize("path", ["/v1/messages/999", "/v1/messages/abc", "/v1/chats/nobody/messages"])
async def test_unknown_ids_are_not_found(client: AppClient, path: str) -> None:
    response = await client.get(path, headers=AUTH)
    assert response.status == 404


async def test_the_api_is_off_without_a_token(make_client: MakeClient) -> None:
    client = await make_client(api_token=None)
    response = await client.post("/v1/messages", json={"chat": "a", "text": "b"})
    assert response.status == 404
    assert (await client.get("/healthz")).status == 200


@pytest.mark.parametrize("wait", ["soon", "", "nan", "1e999x"])
async def test_a_wait_that_is_not_a_number_of_seconds_is_a_bad_request(client: AppClient, wait: str) -> None:
    message_id = await send(client, "w", "hi")
    response = await client.get(f"/v1/messages/{message_id}", params={"wait": wait}, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["field"] == "wait"


@pytest.mark.parametrize(("field", "limit"), [("text", MAX_TEXT_CHARS), ("chat", MAX_CHAT_CHARS)])
async def test_an_over_long_field_is_a_bad_request_and_nothing_is_stored(
    client: AppClient, fake: FakeOllama, field: str, limit: int
) -> None:
    body = {"chat": "long", "text": "hi", field: "x" * (limit + 1)}
    response = await client.post("/v1/messages", json=body, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["field"] == field
    assert await transcript_is_empty(client, "long")
    body[field] = "x" * limit
    await wait_handled(client, await send(client, body["chat"], body["text"]))
    assert fake.chat_requests
