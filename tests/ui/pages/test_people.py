"""The people page: owners, members, pending pairing requests; approve, deny, revoke."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from assistant.keys import STORE
from assistant.store import pairing
from assistant.store.tables import Pairing, Reply
from assistant.types import Address
from tests.conftest import AppClient, MakeClient
from tests.ui.dashboard import add_chat, post


async def ask(client: AppClient, address: str) -> Pairing:
    """A stranger's pairing request, as the access gate makes one."""
    store = client.app[STORE]
    chat = await add_chat(store, "whatsapp", address)
    asked = await pairing.request(store, chat.id or 0, [address], datetime.now(UTC))
    rows = await store.read(lambda s: list(s.exec(select(Pairing).where(Pairing.code == asked.code))))
    return rows[0]


async def test_the_page_shows_owners_pending_and_members(make_client: MakeClient) -> None:
    client = await make_client(owners=(Address.parse("whatsapp:+15550001111"),))
    row = await ask(client, "whatsapp:+15552223333")
    page = await (await client.get("/ui/people")).text()
    assert "whatsapp:+15550001111" in page
    assert f'id="pairing-{row.id}"' in page
    assert str(row.code) in page
    assert "No members yet" in page


async def test_approving_lets_the_person_in_and_welcomes_them(client: AppClient) -> None:
    row = await ask(client, "whatsapp:+15552223333")
    status, _, _ = await post(client, f"/ui/people/{row.id}/approve")
    assert status == 303
    assert await pairing.approved(client.app[STORE], ["whatsapp:+15552223333"])
    page = await (await client.get("/ui/people")).text()
    assert "Approved: whatsapp:+15552223333" in page
    assert f'id="member-{row.id}"' in page
    replies = await client.app[STORE].read(lambda s: list(s.exec(select(Reply))))
    assert [r.text for r in replies] == ["You're approved: you can talk to me now."]
    status, _, _ = await post(client, f"/ui/people/{row.id}/approve")
    assert "no longer pending" in await (await client.get("/ui/people")).text()


async def test_deny_and_revoke_take_access_away(client: AppClient) -> None:
    denied = await ask(client, "whatsapp:+15554445555")
    await post(client, "/ui/people/revoke", address=denied.address)
    assert f'id="pairing-{denied.id}"' not in await (await client.get("/ui/people")).text()
    member = await ask(client, "whatsapp:+15556667777")
    await post(client, f"/ui/people/{member.id}/approve")
    await post(client, "/ui/people/revoke", address=member.address)
    assert not await pairing.approved(client.app[STORE], [member.address])
    assert "Revoked: whatsapp:+15556667777" in await (await client.get("/ui/people")).text()
    await post(client, "/ui/people/revoke", address="not an address")
    assert "That is not an address" in await (await client.get("/ui/people")).text()
