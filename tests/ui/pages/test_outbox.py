"""The outbox page: waiting and failed replies with their reasons; retry sends again, drop never sends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import Session

from assistant.keys import STORE
from assistant.store.tables import Reply
from tests.conftest import AppClient
from tests.ui.dashboard import add_chat, post


async def failed_reply(client: AppClient, text: str, error: str) -> int:
    chat = await add_chat(client.app[STORE], "api", "api:anna")
    reply = Reply(
        chat_id=chat.id or 0,
        text=text,
        status="failed",
        attempts=5,
        error=error,
        created_at=datetime.now(UTC),
    )

    def add(session: Session) -> int:
        session.add(reply)
        session.flush()
        return reply.id or 0

    return await client.app[STORE].write(add)


async def status_of(client: AppClient, reply_id: int) -> Reply:
    reply = await client.app[STORE].read(lambda s: s.get(Reply, reply_id))
    assert reply is not None
    return reply


async def test_failed_replies_show_their_reason(client: AppClient) -> None:
    reply_id = await failed_reply(client, "see you <soon>", "131047: re-engagement message")
    page = await (await client.get("/ui/outbox")).text()
    assert f'id="reply-{reply_id}"' in page
    assert "see you &lt;soon&gt;" in page
    assert "131047: re-engagement message" in page


async def test_retry_sends_a_failed_reply_again(client: AppClient) -> None:
    reply_id = await failed_reply(client, "try me again", "timeout")
    status, _, _ = await post(client, f"/ui/outbox/{reply_id}/retry")
    assert status == 303
    for _ in range(100):
        if (await status_of(client, reply_id)).status == "sent":
            break
        await asyncio.sleep(0.02)
    reply = await status_of(client, reply_id)
    assert reply.status == "sent"
    assert f'id="reply-{reply_id}"' not in await (await client.get("/ui/outbox")).text()


async def test_drop_keeps_a_reply_from_ever_going_out(client: AppClient) -> None:
    reply_id = await failed_reply(client, "never mind", "rate limited")
    await post(client, f"/ui/outbox/{reply_id}/drop")
    reply = await status_of(client, reply_id)
    assert reply.status == "dropped"
    assert reply.error == "dropped from the dashboard (rate limited)"
    page = await (await client.get("/ui/outbox")).text()
    assert f"Reply {reply_id} was dropped" in page
    await post(client, f"/ui/outbox/{reply_id}/retry")
    assert (await status_of(client, reply_id)).status == "dropped"
    assert "no longer waiting" in await (await client.get("/ui/outbox")).text()
