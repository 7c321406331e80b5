"""The same store on PostgreSQL: migrations, the inbox, the outbox and the app's paths through it
(on the server tests.postgres names)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from assistant.keys import STORE
from assistant.store import Store, inbox, outbox
from assistant.store.tables import Turn
from assistant.types import Address, Inbound
from tests.api import send, transcript, wait_handled
from tests.conftest import AUTH, MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.postgres import postgres_url

__all__ = ["postgres_url"]


async def test_migrations_build_the_models_schema(postgres_url: str) -> None:
    store = await Store.open(postgres_url)

    def diff(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    with store.engine.connect() as conn:
        assert diff(conn) == []
    await store.close()


async def test_accept_dedupe_and_the_outbox_order(postgres_url: str) -> None:
    store = await Store.open(postgres_url)
    now = datetime.now(UTC)
    message = Inbound("whatsapp", "wamid.1", Address("whatsapp", "+15550001"), "hi", now)
    first, again = await inbox.accept(store, [message, message], now)
    assert (first.new, again.new, again.message_id) == (True, False, first.message_id)
    turn = Turn(chat_id=first.chat_id, started_at=now, finished_at=now)
    reply_ids = await inbox.finish_turn(store, turn, [first.message_id], ["one", "two"])
    await outbox.record(store, [outbox.retry(reply_ids[0], 1, now + timedelta(minutes=1), "503")])
    assert await outbox.due(store, now, {"whatsapp"}) == []
    later = await outbox.due(store, now + timedelta(minutes=2), {"whatsapp"})
    assert await outbox.due(store, now + timedelta(minutes=2), {"sms"}) == []
    assert [d.reply.text for d in later] == ["one", "two"]
    await store.close()


async def test_the_app_runs_on_postgres(make_client: MakeClient, fake: FakeOllama, postgres_url: str) -> None:
    client = await make_client(database_url=postgres_url)
    remember = {"name": "remember", "arguments": {"fact": "Likes green tea"}}
    remind = {"name": "schedule_reminder", "arguments": {"text": "tea", "every": "1h"}}
    fake.push(Step(tool_calls=[remember]), Step(content="Noted."))
    fake.push(Step(tool_calls=[remind]), Step(content="Set."))
    for text, client_id in [("I like green tea", "a"), ("remind me hourly", "b"), ("again", "b")]:
        await wait_handled(client, await send(client, "pg", text, client_id=client_id))
    jobs = await wait_handled(client, await send(client, "pg", "/jobs"))
    facts = await wait_handled(client, await send(client, "pg", "/memory"))
    assert '"tea" every hour' in jobs["replies"][0]["text"]
    assert "Likes green tea" in facts["replies"][0]["text"]
    said = [e["text"] for e in await transcript(client, "pg") if e["role"] == "user"]
    assert said == ["I like green tea", "remind me hourly", "/jobs", "/memory"]


async def test_a_transcript_pages_on_postgres(make_client: MakeClient, postgres_url: str) -> None:
    client = await make_client(database_url=postgres_url)
    at = datetime.now(UTC)  # five messages of one instant (as one group commit stores them)
    sender = Address("api", "pages")
    await inbox.accept(
        client.app[STORE], [Inbound("api", f"p/{n}", sender, f"t{n}", at) for n in range(5)], at
    )
    for n in range(5, 8):
        await wait_handled(client, await send(client, "pages", f"t{n}"))
    seen: list[str] = []
    query = "?limit=3"
    while query:
        response = await client.get(f"/v1/chats/pages/messages{query}", headers=AUTH)
        body = await response.json()
        seen = [e["text"] for e in body["messages"]] + seen
        query = f"?limit=3&before={body['older']}" if body["older"] else ""
    assert [t for t in seen if not t.startswith("echo")] == [f"t{n}" for n in range(8)]
    whole = await client.get("/v1/chats/pages/messages?limit=200", headers=AUTH)
    assert seen == [e["text"] for e in (await whole.json())["messages"]]


async def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(postgres_url) for _ in range(4)))
    for store in stores:
        await store.close()
