"""Small helpers for driving Hearth through its HTTP API in tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import AUTH, AppClient


async def send(client: AppClient, chat: str, text: str, client_id: str | None = None) -> str:
    """Post a message and return its id; fails the test unless it was accepted."""
    body: dict[str, str] = {"chat": chat, "text": text}
    if client_id is not None:
        body["id"] = client_id
    response = await client.post("/v1/messages", json=body, headers=AUTH)
    assert response.status == 202, await response.text()
    message_id: str = (await response.json())["id"]
    return message_id


async def wait_handled(client: AppClient, message_id: str, wait_s: float = 10) -> dict[str, Any]:
    """The message's view once it is handled (or when the wait runs out)."""
    response = await client.get(f"/v1/messages/{message_id}?wait={wait_s}", headers=AUTH)
    assert response.status == 200, await response.text()
    view: dict[str, Any] = await response.json()
    return view


async def transcript(client: AppClient, chat: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/chats/{chat}/messages", headers=AUTH)
    assert response.status == 200, await response.text()
    messages: list[dict[str, Any]] = (await response.json())["messages"]
    return messages
