"""The people page: owners, members, pending pairing requests; approve, deny, revoke; a member's policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store import pairing
from assistant.store.tables import Fact, Pairing, Reply
from assistant.types import Address
from assistant.ui.queries import pairing_row
from tests.access.people import MEMBER, MEMBER_ADDRESS, pair, say, start, to
from tests.channels.webhooks import until
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step
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


def offered(request: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in request.get("tools") or []]


async def remember_as_member(
    client: AppClient, fake: FakeOllama, graph: GraphFake, fact: str
) -> dict[str, Any]:
    """The member asks to remember; the model calls remember. The request the model got first."""
    before = len(fake.chat_requests)
    told = len(to(graph, MEMBER))
    fake.push(Step(tool_calls=[{"name": "remember", "arguments": {"fact": fact}}]), Step(content="ok"))
    await say(client, MEMBER, f"remember: {fact}")
    await until(lambda: len(to(graph, MEMBER)) > told)
    return fake.chat_requests[before]


async def test_a_members_policy_decides_which_tools_their_chat_gets(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama
) -> None:
    (settings.data_dir / "policy.toml").write_text('[members.quiet]\ndeny = ["remember"]\n')
    client = await start(aiohttp_client, settings, graph)
    await pair(client, graph)
    store = client.app[STORE]
    [member] = await store.read(lambda s: list(s.exec(select(Pairing).where(Pairing.status == "approved"))))
    page = await (await client.get("/ui/people")).text()
    assert f'action="/ui/people/{member.id}/policy"' in page
    assert '<option value="member" selected>member</option><option value="quiet">quiet</option>' in page
    assert 'id="policy-quiet"' in page
    assert "never remember" in page

    first = await remember_as_member(client, fake, graph, "tea, no sugar")
    assert "remember" in offered(first)
    status, _, _ = await post(client, f"/ui/people/{member.id}/policy", policy="quiet")
    assert status == 303
    assert (
        f"{MEMBER_ADDRESS} now acts with the quiet policy." in await (await client.get("/ui/people")).text()
    )
    second = await remember_as_member(client, fake, graph, "coffee, black")
    assert "remember" not in offered(second)
    results = [str(m["content"]) for m in fake.chat_requests[-1]["messages"] if m["role"] == "tool"]
    assert any("not permitted: remember is not available to you" in r for r in results)
    facts = await store.read(lambda s: [f.text for f in s.exec(select(Fact))])
    assert facts == ["tea, no sugar"]

    await post(client, f"/ui/people/{member.id}/policy", policy="member")
    third = await remember_as_member(client, fake, graph, "coffee, black")
    assert "remember" in offered(third)
    assert len(await store.read(lambda s: list(s.exec(select(Fact))))) == 2


async def test_only_a_member_policy_can_be_given(make_client: MakeClient) -> None:
    client = await make_client()
    row = await ask(client, "whatsapp:+15552223333")
    await post(client, f"/ui/people/{row.id}/policy", policy="member")
    assert "no longer a member" in await (await client.get("/ui/people")).text()  # still pending
    await post(client, f"/ui/people/{row.id}/approve")
    for name in ("owner", "nonsense", ""):
        await post(client, f"/ui/people/{row.id}/policy", policy=name)
        assert "That is not one of the member policies." in await (await client.get("/ui/people")).text()
    stored = await pairing_row(client.app[STORE], row.id or 0)
    assert stored is not None
    assert stored.policy == "member"
