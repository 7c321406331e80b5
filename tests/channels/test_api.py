"""The HTTP API channel, through a real app and the fake Ollama."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.channels.api import MAX_CHAT_CHARS, MAX_TEXT_CHARS
from assistant.keys import STORE
from assistant.store import inbox
from assistant.types import Address, Inbound
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


async def page(client: AppClient, chat: str, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/v1/chats/{chat}/messages{query}", headers=AUTH)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def lines(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Entries by id and text (a reply's status changes as the outbox sends it)."""
    return [(e["id"], e["text"]) for e in entries]


async def every_page(client: AppClient, chat: str, limit: int) -> list[list[dict[str, Any]]]:
    """The transcript page by page, newest page first, following `older`."""
    pages, query = [], f"?limit={limit}"
    while True:
        body = await page(client, chat, query)
        pages.append(body["messages"])
        if body["older"] is None:
            return pages
        query = f"?limit={limit}&before={body['older']}"


async def test_a_long_transcript_comes_in_pages(client: AppClient) -> None:
    for n in range(30):
        await wait_handled(client, await send(client, "long", f"m{n}"))
    newest = await page(client, "long")
    assert len(newest["messages"]) == 50  # the default
    assert newest["messages"][-1]["text"] == "echo: m29"
    assert newest["older"] == newest["messages"][0]["id"]
    rest = await page(client, "long", f"?before={newest['older']}")
    assert rest["older"] is None
    whole = rest["messages"] + newest["messages"]
    assert [e["text"] for e in whole if e["role"] == "user"] == [f"m{n}" for n in range(30)]
    assert lines(whole) == lines((await page(client, "long", "?limit=200"))["messages"])
    pages = await every_page(client, "long", 7)
    assert [len(p) for p in pages] == [7] * 8 + [4]
    assert lines([e for p in reversed(pages) for e in p]) == lines(whole)


async def test_messages_of_one_instant_are_paged_without_loss_or_repeat(client: AppClient) -> None:
    # Concurrent accepts share one commit, so their messages share one instant.
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    sender = Address("api", "same")
    inbounds = [Inbound("api", f"same/{n}", sender, f"t{n}", at) for n in range(5)]
    await inbox.accept(client.app[STORE], inbounds, at)
    pages = await every_page(client, "same", 2)
    assert [[e["text"] for e in p] for p in pages] == [["t3", "t4"], ["t1", "t2"], ["t0"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=ten", "limit"),
        ("?limit=-5", "limit"),
        ("?limit=", "limit"),
        ("?limit=%C2%B2", "limit"),  # a superscript two is a digit to Python, not a number
        ("?before=yesterday", "before"),
        ("?before=reply-", "before"),
        ("?before=99999", "before"),  # no such message
        ("?before=reply-99999", "before"),
        ("?before=1", "before"),  # a message of another chat
    ],
)
async def test_a_bad_page_is_a_bad_request_that_says_why(client: AppClient, query: str, field: str) -> None:
    await wait_handled(client, await send(client, "other", "hello"))
    await wait_handled(client, await send(client, "mine", "hello"))
    response = await client.get(f"/v1/chats/mine/messages{query}", headers=AUTH)
    assert response.status == 400
    body = await response.json()
    assert body["field"] == field
    assert field in body["error"]
