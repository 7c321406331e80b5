"""Status callbacks against replies still going out and replies already settled: a failure reported
mid-send is applied when the reply settles; news repeated or about replaced parts changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from assistant.app import create_app
from assistant.settings import Settings
from assistant.store.tables import Reply
from tests.channels.webhooks import post_whatsapp, until, wa_body, wa_message, wa_status, whatsapp_settings
from tests.channels.whatsapp.test_channel import rows, until_reply
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step

LONG = ("This is one sentence of a long answer. " * 300).strip()  # three parts


@pytest.fixture
async def wa(aiohttp_client: MakeClient, settings: Settings, graph: GraphFake) -> AppClient:
    client: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph)))
    return client


@pytest.fixture
async def wa_template(aiohttp_client: MakeClient, settings: Settings, graph: GraphFake) -> AppClient:
    changed = whatsapp_settings(settings, graph, whatsapp_template="reminder_v1")
    client: AppClient = await aiohttp_client(create_app(changed))
    return client


def kinds(graph: GraphFake) -> list[str]:
    return [str(s["type"]) for s in graph.sent]


async def status(client: AppClient, wamid: str, state: str, code: int | None = None) -> None:
    response = await post_whatsapp(client, wa_body(statuses=[wa_status(wamid, state, code)]))
    assert response.status == 200


async def long_reply_held_after_its_first_part(client: AppClient, graph: GraphFake, fake: FakeOllama) -> str:
    """A three-part reply whose second part waits at the provider; the first part's id."""
    fake.push(Step(content=LONG))
    graph.hold(after=1)
    await post_whatsapp(client, wa_body(wa_message("tell me everything")))
    await until(lambda: graph.holding == 1)
    return str(graph.sent[0]["id"])


async def test_a_refusal_reported_while_parts_go_out_sends_the_reply_as_the_template(
    wa_template: AppClient, graph: GraphFake, fake: FakeOllama
) -> None:
    first = await long_reply_held_after_its_first_part(wa_template, graph, fake)
    await status(wa_template, first, "failed", 131047)
    graph.release()
    await until(lambda: "template" in kinds(graph))
    reply = await until_reply(wa_template, lambda r: r.status == "sent")
    assert reply.meta.get("via") == "template"
    assert kinds(graph) == ["text", "text", "text", "template"]
    # The same news again, or news of a part the template replaced, changes nothing.
    await status(wa_template, first, "failed", 131047)
    await status(wa_template, str(graph.sent[1]["id"]), "failed", 131047)
    await asyncio.sleep(0.3)
    assert kinds(graph) == ["text", "text", "text", "template"]
    [reply] = await rows(wa_template, Reply)
    assert (reply.status, reply.meta.get("via")) == ("sent", "template")
    await status(wa_template, str(graph.sent[3]["id"]), "delivered")
    await until_reply(wa_template, lambda r: r.status == "delivered")


async def test_a_failure_reported_while_parts_go_out_fails_the_reply(
    wa: AppClient, graph: GraphFake, fake: FakeOllama
) -> None:
    first = await long_reply_held_after_its_first_part(wa, graph, fake)
    await status(wa, first, "failed", 131026)
    graph.release()
    reply = await until_reply(wa, lambda r: r.status != "pending")
    assert reply.status == "failed"
    assert reply.error is not None
    assert reply.error.startswith("131026")
    assert kinds(graph) == ["text", "text", "text"]


async def test_a_reply_failed_for_good_is_not_sent_again_by_later_news(
    wa_template: AppClient, graph: GraphFake, fake: FakeOllama
) -> None:
    fake.push(Step(content=LONG))
    await post_whatsapp(wa_template, wa_body(wa_message("tell me everything")))
    await until_reply(wa_template, lambda r: r.status == "sent")
    await status(wa_template, str(graph.sent[0]["id"]), "failed", 131026)
    await until_reply(wa_template, lambda r: r.status == "failed")
    await status(wa_template, str(graph.sent[1]["id"]), "failed", 131047)
    await asyncio.sleep(0.3)
    assert kinds(graph) == ["text", "text", "text"]
    [reply] = await rows(wa_template, Reply)
    assert reply.status == "failed"
    assert reply.error is not None
    assert reply.error.startswith("131026")
