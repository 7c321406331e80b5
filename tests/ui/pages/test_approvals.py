"""The approvals page: what waits, exactly what would run, approve or deny as `/yes` and `/no` do."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlmodel import select

from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store.tables import Approval, Fact
from tests.access.people import MEMBER, MEMBER_ADDRESS, pair, say, start
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step
from tests.ui.dashboard import post

CODE = re.compile(r"Approval needed \(([A-Z0-9]{6})\)")
FACT = 'the <b>spare key</b> is under the "blue" pot'


def always_ask(data_dir: Path) -> None:
    """A policy that holds every `remember` for the owner's approval: no skill or page needed."""
    (data_dir / "policy.toml").write_text('[owner]\napprove = ["remember"]\n')


@pytest.fixture
async def asking(make_client: MakeClient, settings: Settings) -> AppClient:
    always_ask(settings.data_dir)
    return await make_client()


async def held(client: AppClient, fake: FakeOllama, chat: str, fact: str = FACT) -> Approval:
    """The model calls remember in `chat`; the call waits for approval. The request."""
    fake.push(Step(tool_calls=[{"name": "remember", "arguments": {"fact": fact}}]), Step(content="asked"))
    await wait_handled(client, await send(client, chat, "remember where the key is"))
    rows = await client.app[STORE].read(lambda s: list(s.exec(select(Approval))))
    return next(r for r in reversed(rows) if r.requested_by == f"api:{chat}" or r.requested_by == chat)


async def said(client: AppClient, chat: str) -> list[str]:
    return [e["text"] for e in await transcript(client, chat) if e["role"] == "assistant"]


async def facts(client: AppClient) -> list[str]:
    return [f.text for f in await client.app[STORE].read(lambda s: list(s.exec(select(Fact))))]


async def until_said(client: AppClient, chat: str, count: int) -> list[str]:
    for _ in range(100):
        if len(found := await said(client, chat)) >= count:
            return found
        await asyncio.sleep(0.05)
    return await said(client, chat)


async def test_a_waiting_call_is_shown_exactly(asking: AppClient, fake: FakeOllama) -> None:
    row = await held(asking, fake, "anna")
    page = await (await asking.get("/ui/approvals")).text()
    assert f'id="approval-{row.id}"' in page
    assert row.code in page
    assert '<strong class="tool">remember</strong>' in page
    # The arguments as they would be passed, escaped like every value on the page.
    assert (
        "&#34;fact&#34;: &#34;the &lt;b&gt;spare key&lt;/b&gt; is under the \\&#34;blue\\&#34; pot&#34;"
        in page
    )
    assert "api:anna" in page
    assert "the policy always asks before this tool runs" in page
    assert f'action="/ui/approvals/{row.id}/yes"' in page
    assert f'action="/ui/approvals/{row.id}/no"' in page
    assert "No decisions yet." in page


async def test_approving_runs_it_once_and_tells_the_person_as_yes_does(
    asking: AppClient, fake: FakeOllama
) -> None:
    in_chat = await held(asking, fake, "bob", "bob's fact")
    await wait_handled(asking, await send(asking, "bob", f"/yes {in_chat.code}"))
    by_command = (await said(asking, "bob"))[-1]

    row = await held(asking, fake, "anna")
    before = len(await said(asking, "anna"))
    status, location, _ = await post(asking, f"/ui/approvals/{row.id}/yes")
    assert (status, location) == (303, "/ui/approvals")
    told = (await until_said(asking, "anna", before + 1))[-1]
    # The answer /yes brought, word for word, but for the request's own code, fact and row.
    fact = '"the <b>spare key</b> is under the \\"blue\\" pot"'
    expected = by_command.replace(in_chat.code, row.code).replace('"bob\'s fact"', fact)
    assert told == expected.replace('"id": 1', '"id": 2')
    assert sorted(await facts(asking)) == sorted(["bob's fact", FACT])
    page = await (await asking.get("/ui/approvals")).text()
    assert f"Approved {row.code}" in page  # the flash
    assert "Nothing is waiting for approval." in page
    assert 'class="done"' in page

    await post(asking, f"/ui/approvals/{row.id}/yes")
    await post(asking, f"/ui/approvals/{row.id}/no")
    assert sorted(await facts(asking)) == sorted(["bob's fact", FACT])
    assert f"Request {row.code} was already done." in await (await asking.get("/ui/approvals")).text()
    assert len(await said(asking, "anna")) == before + 1  # no second answer sent
    [stored] = [
        r for r in await asking.app[STORE].read(lambda s: list(s.exec(select(Approval)))) if r.id == row.id
    ]
    assert (stored.status, stored.decided_by) == ("done", "dashboard")


async def test_denying_never_runs_it_and_tells_the_person(asking: AppClient, fake: FakeOllama) -> None:
    row = await held(asking, fake, "anna")
    await post(asking, f"/ui/approvals/{row.id}/no")
    assert (await until_said(asking, "anna", 3))[-1] == "Denied: remember did not run."
    assert await facts(asking) == []
    page = await (await asking.get("/ui/approvals")).text()
    assert 'class="denied"' in page
    late = await wait_handled(asking, await send(asking, "anna", f"/yes {row.code}"))
    assert late["replies"][0]["text"] == f"Request {row.code} was already denied; nothing more happens."


async def test_a_form_without_the_token_answers_nothing(asking: AppClient, fake: FakeOllama) -> None:
    row = await held(asking, fake, "anna")
    response = await asking.post(
        f"/ui/approvals/{row.id}/yes", data={"csrf": "forged"}, allow_redirects=False
    )
    assert response.status == 403
    assert await facts(asking) == []
    assert f'id="approve-{row.code}"' in await (await asking.get("/ui/approvals")).text()


async def test_an_expired_request_is_history_not_answerable(
    make_client: MakeClient, settings: Settings, fake: FakeOllama
) -> None:
    always_ask(settings.data_dir)
    client = await make_client(approval_timeout_s=0.5)
    row = await held(client, fake, "anna")
    await asyncio.sleep(0.6)
    page = await (await client.get("/ui/approvals")).text()
    assert "Nothing is waiting for approval." in page
    assert 'class="expired"' in page
    await post(client, f"/ui/approvals/{row.id}/yes", page="/ui/approvals")
    assert await facts(client) == []
    assert f"Request {row.code} was already expired." in await (await client.get("/ui/approvals")).text()


async def test_a_request_of_someone_revoked_since_never_runs(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama
) -> None:
    (settings.data_dir / "policy.toml").write_text('[member]\napprove = ["remember"]\n')
    client = await start(aiohttp_client, settings, graph)
    await pair(client, graph)
    fake.push(Step(tool_calls=[{"name": "remember", "arguments": {"fact": FACT}}]), Step(content="asked"))
    await say(client, MEMBER, "remember where the key is")
    rows: list[Approval] = []
    for _ in range(100):
        if rows := await client.app[STORE].read(lambda s: list(s.exec(select(Approval)))):
            break
        await asyncio.sleep(0.05)
    [row] = rows
    assert (row.role, row.requested_by) == ("member", MEMBER_ADDRESS)
    await post(client, "/ui/people/revoke", address=MEMBER_ADDRESS)
    await post(client, f"/ui/approvals/{row.id}/yes")
    page = await (await client.get("/ui/approvals")).text()
    assert f"{MEMBER_ADDRESS} no longer has access, so remember did not run" in page
    assert await facts(client) == []
    assert 'class="denied"' in page
