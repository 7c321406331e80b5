"""The chats pages: the list with roles and last activity; a transcript page by page, facts, summary, jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store import memory
from assistant.store.tables import Fact, Message, Reply
from assistant.types import Address
from tests.api import send, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.ui.dashboard import HasApp, add_chat, post
from tests.ui.pages.test_jobs import add_job
from tests.ui.pages.test_people import ask


async def fill(client: HasApp, chat_id: int, count: int) -> None:
    """`count` messages, each answered, a second apart: `message N` and `reply N`."""
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    rows: list[Message | Reply] = []
    for n in range(count):
        at = start + timedelta(seconds=n)
        rows.append(
            Message(
                chat_id=chat_id,
                channel="api",
                provider_id=f"m{n}",
                text=f"message {n}",
                status="handled",
                created_at=at,
            )
        )
        rows.append(Reply(chat_id=chat_id, text=f"reply {n}", status="sent", created_at=at))
    await client.app[STORE].write(lambda s: s.add_all(rows))


async def test_the_list_shows_channel_role_and_activity(make_client: MakeClient) -> None:
    client = await make_client(owners=(Address.parse("whatsapp:+15550001111"),))
    await wait_handled(client, await send(client, "anna", "hello"))
    await add_chat(client.app[STORE], "whatsapp", "whatsapp:+15550001111")
    await ask(client, "whatsapp:+15552223333")
    await add_chat(client.app[STORE], "twilio", "sms:+15559990000")
    page = await (await client.get("/ui/chats")).text()
    for address, role in [
        ("api:anna", "owner"),
        ("whatsapp:+15550001111", "owner"),
        ("whatsapp:+15552223333", "pending"),
        ("sms:+15559990000", "stranger"),
    ]:
        assert address in page
        row = page[page.index(address) :].split("</tr>")[0]
        assert f'class="role {role}"' in row, address


async def test_a_transcript_pages_from_the_newest(client: AppClient) -> None:
    chat = await add_chat(client.app[STORE], "api", "api:long")
    await fill(client, chat.id or 0, 60)  # 120 lines: pages of 50, 50 and 20
    first = await (await client.get(f"/ui/chats/{chat.id}")).text()
    assert "page 1 of 3" in first
    assert "reply 59" in first
    assert "message 35" in first
    assert "message 34<" not in first
    assert first.index("message 59") < first.index("reply 59")
    assert 'href="?page=2"' in first
    last = await (await client.get(f"/ui/chats/{chat.id}?page=3")).text()
    assert "page 3 of 3" in last
    assert "message 0" in last
    assert "reply 9" in last
    assert "message 10<" not in last
    assert 'href="?page=2"' in last
    assert 'href="?page=4"' not in last
    beyond = await (await client.get(f"/ui/chats/{chat.id}?page=99")).text()
    assert "page 3 of 3" in beyond


async def test_a_chat_shows_its_facts_summary_and_jobs_escaped(client: AppClient) -> None:
    await wait_handled(client, await send(client, "anna", "<script>alert(1)</script>"))
    chat = await add_chat(client.app[STORE], "api", "api:anna")
    await memory.add_fact(client.app[STORE], Fact(chat_id=chat.id or 0, text="likes <i>tea</i>"))
    await add_job(client, "call mum")
    page = await (await client.get(f"/ui/chats/{chat.id}")).text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "likes &lt;i&gt;tea&lt;/i&gt;" in page
    assert "call mum" in page
    assert "No summary yet." in page


async def test_an_unknown_chat_is_not_found(client: AppClient) -> None:
    assert (await client.get("/ui/chats/4242")).status == 404
    assert (await client.get("/ui/chats/x")).status == 404


async def test_a_members_chat_shows_their_policy(make_client: MakeClient, settings: Settings) -> None:
    (settings.data_dir / "policy.toml").write_text("[members.family]\nteams = true\n")
    client = await make_client()
    plain, family = await ask(client, "whatsapp:+15552223333"), await ask(client, "whatsapp:+15554445555")
    for row in (plain, family):
        await post(client, f"/ui/people/{row.id}/approve")
    await post(client, f"/ui/people/{family.id}/policy", policy="family")
    page = await (await client.get("/ui/chats")).text()
    rows = {a: page[page.index(f"{a}</a>") :].split("</tr>")[0] for a in (plain.address, family.address)}
    assert '<span class="role member">member</span>' in rows[plain.address]
    assert '<span class="role member">member · family</span>' in rows[family.address]
    detail = await (await client.get(f"/ui/chats/{family.chat_id}")).text()
    assert "member · family" in detail
