"""Facts and summaries through the HTTP API: tools, commands, isolation, /reset and embeddings."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from assistant.agent import prompt
from assistant.keys import STORE
from assistant.store.tables import Fact
from tests.api import send, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.memory.fake import is_summary, responder


def call(name: str, **arguments: Any) -> Step:
    return Step(tool_calls=[{"name": name, "arguments": arguments}])


async def say(client: AppClient, chat: str, text: str) -> str:
    view = await wait_handled(client, await send(client, chat, text))
    reply: str = view["replies"][0]["text"]
    return reply


def tool_result(body: dict[str, Any]) -> Any:
    return json.loads(body["messages"][-1]["content"])


def prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body["messages"])


async def stored_facts(client: AppClient) -> list[Fact]:
    return await client.app[STORE].read(lambda s: list(s.exec(select(Fact))))


async def test_remember_recall_and_forget_through_tool_calls(client: AppClient, fake: FakeOllama) -> None:
    fake.push(call("remember", fact="Likes green tea"), Step(content="Noted."))
    await say(client, "a", "remember that I like green tea")
    kept = tool_result(fake.chat_requests[1])
    assert kept["remembered"] == "Likes green tea"
    fake.push(call("remember", fact="Has a cat called Miso"), Step(content="Noted."))
    await say(client, "a", "and my cat")
    fake.push(call("recall", query="what tea"), Step(content="Green tea."))
    await say(client, "a", "what do I drink?")
    found = tool_result(fake.chat_requests[5])["facts"]
    assert found[0] == {"id": kept["id"], "fact": "Likes green tea"}
    assert f"[{kept['id']}] Likes green tea" in fake.chat_requests[4]["messages"][0]["content"]
    fake.push(call("forget", id=kept["id"]), Step(content="Forgotten."))
    await say(client, "a", "forget the tea")
    assert tool_result(fake.chat_requests[7]) == {"forgotten": kept["id"]}
    assert [f.text for f in await stored_facts(client)] == ["Has a cat called Miso"]
    fake.push(call("forget", id=kept["id"]), Step(content="?"))
    await say(client, "a", "forget it again")
    assert "no fact" in tool_result(fake.chat_requests[9])["error"]


async def test_the_prefix_changes_only_when_the_facts_do(client: AppClient, fake: FakeOllama) -> None:
    await say(client, "p", "hello")
    await say(client, "p", "hello again")
    first, second = (body["messages"][0] for body in fake.chat_requests)
    assert first == second
    fake.push(call("remember", fact="Lives in Lisbon"), Step(content="Noted."))
    await say(client, "p", "I live in Lisbon")
    await say(client, "p", "thanks")
    assert fake.chat_requests[-1]["messages"][0] != first
    assert "Lives in Lisbon" in fake.chat_requests[-1]["messages"][0]["content"]


async def test_memory_and_forget_commands(client: AppClient, fake: FakeOllama) -> None:
    assert "no facts" in await say(client, "c", "/memory")
    fake.push(call("remember", fact="Birthday is 3 May"), Step(content="Noted."))
    await say(client, "c", "my birthday is 3 May")
    fact_id = (await stored_facts(client))[0].id
    assert f"#{fact_id} Birthday is 3 May" in await say(client, "c", "/memory")
    assert "Nothing forgotten" in await say(client, "c", "/forget 999")
    assert "Nothing forgotten" in await say(client, "c", "/forget soon")
    assert f"forgotten fact #{fact_id}" in await say(client, "c", f"/forget #{fact_id}")
    assert await stored_facts(client) == []


async def test_nothing_crosses_between_chats(make_client: MakeClient, fake: FakeOllama) -> None:
    fake.responder = responder
    client = await make_client(num_ctx=4096)
    fake.push(call("remember", fact="Secret word is marmalade"), Step(content="Noted."))
    await say(client, "one", "remember the secret word")
    for n in range(80):
        await say(client, "one", f"my name is Ada and this is line {n} about orchids")
    assert any(is_summary(body) for body in fake.chat_requests)
    seen = len(fake.chat_requests)
    await say(client, "two", "hello")
    fake.push(call("recall", query="secret word"), Step(content="Nothing."))
    await say(client, "two", "what is the secret word?")
    fake.push(call("forget", id=1), Step(content="?"))
    await say(client, "two", "forget fact 1")
    for body in fake.chat_requests[seen:]:
        text = prompt_text(body)
        assert "marmalade" not in text
        assert "orchids" not in text
        assert "Ada" not in text
    results = [b for b in fake.chat_requests[seen:] if b["messages"][-1]["role"] == "tool"]
    assert tool_result(results[0]) == {"facts": []}
    assert "no fact 1" in tool_result(results[1])["error"]
    assert "Secret word is marmalade" in await say(client, "one", "/memory")


async def test_reset_drops_history_and_summary_but_keeps_facts(
    make_client: MakeClient, fake: FakeOllama
) -> None:
    fake.responder = responder
    client = await make_client(num_ctx=4096)
    fake.push(call("remember", fact="Prefers mornings"), Step(content="Noted."))
    await say(client, "r", "I prefer mornings")
    for n in range(80):
        await say(client, "r", f"my name is Grace, note {n} on compilers")
    assert prompt.SUMMARY_HEADER in prompt_text(fake.chat_requests[-1])
    await say(client, "r", "/reset")
    await say(client, "r", "fresh start")
    last = fake.chat_requests[-1]
    assert prompt.SUMMARY_HEADER not in prompt_text(last)
    assert "compilers" not in prompt_text(last)
    assert "Prefers mornings" in last["messages"][0]["content"]


async def test_facts_are_embedded_and_ranked_by_the_embed_model(
    make_client: MakeClient, fake: FakeOllama
) -> None:
    fake.models["all-minilm"] = ["embedding"]
    client = await make_client(embed_model="all-minilm")
    for fact in ("Plays the cello on Sundays", "Allergic to peanuts", "Works as a nurse"):
        fake.push(call("remember", fact=fact), Step(content="Noted."))
        await say(client, "e", f"remember: {fact}")
    facts = await stored_facts(client)
    assert all(f.vector is not None and f.vector_model == "all-minilm" for f in facts)
    fake.push(call("recall", query="peanuts allergic"), Step(content="Peanuts."))
    await say(client, "e", "anything I cannot eat?")
    assert tool_result(fake.chat_requests[-1])["facts"][0]["fact"] == "Allergic to peanuts"


async def test_recall_falls_back_to_words_when_embedding_fails(
    make_client: MakeClient, fake: FakeOllama
) -> None:
    client = await make_client(embed_model="not-pulled")
    fake.push(call("remember", fact="Drives a blue van"), Step(content="Noted."))
    await say(client, "w", "I drive a blue van")
    assert (await stored_facts(client))[0].vector is None
    fake.push(call("recall", query="which van"), Step(content="Blue."))
    await say(client, "w", "what do I drive?")
    assert tool_result(fake.chat_requests[-1])["facts"][0]["fact"] == "Drives a blue van"
