"""The WhatsApp Cloud API channel end to end: signed webhook → fake model → fake Graph API."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import col, select

from assistant.app import create_app
from assistant.errors import SettingsError
from assistant.keys import STORE
from assistant.settings import Secret, Settings
from assistant.store.tables import Message, Reply
from tests.channels.webhooks import (
    OWNER_BSUID,
    VERIFY_TOKEN,
    meta_signature,
    post_whatsapp,
    until,
    wa_body,
    wa_message,
    wa_status,
    whatsapp_settings,
)
from tests.conftest import AppClient, MakeClient
from tests.fakes.base import Failure
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama, Step


@pytest.fixture
async def wa(aiohttp_client: MakeClient, settings: Settings, graph: GraphFake) -> AppClient:
    client: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph)))
    return client


async def rows(client: AppClient, table: type[Any]) -> list[Any]:
    return await client.app[STORE].read(lambda s: list(s.exec(select(table).order_by(col(table.id)))))


def texts(graph: GraphFake) -> list[str]:
    return [s["text"]["body"] for s in graph.sent if s["type"] == "text"]


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        (
            {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
            200,
            "1158201444",
        ),
        ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, 403, None),
        ({}, 403, None),
    ],
)
async def test_the_verification_handshake(
    wa: AppClient, query: dict[str, str], status: int, body: str | None
) -> None:
    response = await wa.get("/webhooks/whatsapp", params=query)
    assert response.status == status
    if body is not None:
        assert await response.text() == body


async def test_a_signed_message_is_answered_through_the_graph_api(wa: AppClient, graph: GraphFake) -> None:
    item = wa_message("What time is it?")
    response = await post_whatsapp(wa, wa_body(item))
    assert response.status == 200
    await until(lambda: len(graph.sent) == 1)
    [sent] = graph.sent
    assert sent["text"]["body"] == "echo: What time is it?"
    assert sent["recipient"] == OWNER_BSUID
    assert sent["phone_number_id"] == "106540352242922"
    assert graph.read == [item["message"]["id"]]
    reply = await until_reply(wa, lambda r: r.status == "sent")
    assert reply.provider_id == sent["id"]


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, meta_signature(b"other body")])
async def test_a_forged_webhook_is_refused_and_nothing_is_written(
    wa: AppClient, graph: GraphFake, signature: str | None
) -> None:
    response = await post_whatsapp(wa, wa_body(wa_message("let me in")), signature=signature)
    assert response.status == 403
    assert await rows(wa, Message) == []


@pytest.mark.parametrize("hex_digits", [63, 32, 1])
async def test_a_truncated_signature_is_refused_and_nothing_is_written(
    wa: AppClient, hex_digits: int
) -> None:
    # The start of the right signature is no signature: a prefix compare would let a forger in.
    body = wa_body(wa_message("let me in"))
    signature = meta_signature(body)[: len("sha256=") + hex_digits]
    response = await post_whatsapp(wa, body, signature=signature)
    assert response.status == 403
    assert await rows(wa, Message) == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"object":"whatsapp_business_account","entry":{}}'])
async def test_a_malformed_payload_gets_400(wa: AppClient, body: bytes) -> None:
    assert (await post_whatsapp(wa, body)).status == 400
    assert await rows(wa, Message) == []


async def test_unknown_payload_shapes_are_acknowledged(wa: AppClient) -> None:
    response = await post_whatsapp(wa, b'{"object":"page","entry":[]}')
    assert response.status == 200


async def test_a_body_over_the_limit_gets_413(wa: AppClient) -> None:
    body = b'{"pad":"' + b"x" * (1024 * 1024 + 10) + b'"}'
    headers = {"X-Hub-Signature-256": meta_signature(body)}
    response = await wa.post("/webhooks/whatsapp", data=io.BytesIO(body), headers=headers)
    assert response.status == 413


async def test_a_webhook_delivered_three_times_is_answered_once(wa: AppClient, graph: GraphFake) -> None:
    body = wa_body(wa_message("once please"))
    for _ in range(3):
        assert (await post_whatsapp(wa, body)).status == 200
    await until(lambda: len(graph.sent) >= 1)
    await asyncio.sleep(0.3)
    assert texts(graph) == ["echo: once please"]


async def test_every_reply_arrives_once_after_the_provider_recovers(wa: AppClient, graph: GraphFake) -> None:
    graph.fail(*[Failure(500) for _ in range(6)], Failure(429, 130429, "throughput"))
    for n in range(3):
        await post_whatsapp(wa, wa_body(wa_message(f"m{n}")))
        await asyncio.sleep(0.1)
    await until(lambda: "m2" in " ".join(texts(graph)), timeout_s=15)
    await asyncio.sleep(0.3)
    delivered = Counter(" | ".join(texts(graph)).replace("echo: ", "").split(" | "))
    assert delivered == Counter({"m0": 1, "m1": 1, "m2": 1})
    assert graph.attempts > len(graph.sent) + len(graph.read)


async def test_status_callbacks_update_the_reply(wa: AppClient, graph: GraphFake) -> None:
    await post_whatsapp(wa, wa_body(wa_message("hi")))
    await until(lambda: len(graph.sent) == 1)
    wamid = graph.sent[0]["id"]
    await until_reply(wa, lambda r: r.status == "sent")
    for status in ("read", "delivered"):  # out of order: read wins
        await post_whatsapp(wa, wa_body(statuses=[wa_status(wamid, status)]))
    await until_reply(wa, lambda r: r.status == "read")


async def until_reply(client: AppClient, check: Any, timeout_s: float = 5) -> Reply:
    async with asyncio.timeout(timeout_s):
        while True:
            found: list[Reply] = [r for r in await rows(client, Reply) if check(r)]
            if found:
                return found[0]
            await asyncio.sleep(0.02)


async def test_a_failed_status_records_the_providers_code(wa: AppClient, graph: GraphFake) -> None:
    await post_whatsapp(wa, wa_body(wa_message("hi")))
    await until(lambda: len(graph.sent) == 1)
    await until_reply(wa, lambda r: r.status == "sent")
    await post_whatsapp(wa, wa_body(statuses=[wa_status(graph.sent[0]["id"], "failed", 131026)]))
    reply = await until_reply(wa, lambda r: r.status == "failed")
    assert reply.error is not None
    assert reply.error.startswith("131026")


async def test_outside_the_window_without_a_template_the_reply_fails_visibly(
    wa: AppClient, graph: GraphFake
) -> None:
    old = datetime.now(UTC) - timedelta(hours=30)
    await post_whatsapp(wa, wa_body(wa_message("late", at=old)))
    reply = await until_reply(wa, lambda r: r.status == "failed")
    assert reply.error is not None
    assert "outside_window" in reply.error
    assert graph.sent == []
    await post_whatsapp(wa, wa_body(wa_message("/status")))
    await until(lambda: len(graph.sent) == 1)
    assert "outside_window" in graph.sent[0]["text"]["body"]


@pytest.fixture
async def wa_template(aiohttp_client: MakeClient, settings: Settings, graph: GraphFake) -> AppClient:
    changed = whatsapp_settings(settings, graph, whatsapp_template="reminder_v1")
    client: AppClient = await aiohttp_client(create_app(changed))
    return client


async def test_outside_the_window_the_template_carries_the_reply(
    wa_template: AppClient, graph: GraphFake
) -> None:
    old = datetime.now(UTC) - timedelta(hours=30)
    await post_whatsapp(wa_template, wa_body(wa_message("late", at=old)))
    await until(lambda: len(graph.sent) == 1)
    [sent] = graph.sent
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "reminder_v1"
    assert sent["template"]["components"][0]["parameters"][0]["text"] == "echo: late"


async def test_a_reengagement_refusal_takes_the_template_path(
    wa_template: AppClient, graph: GraphFake
) -> None:
    graph.fail(None, Failure(400, 131047, "Re-engagement message"))  # the read receipt, then the text
    await post_whatsapp(wa_template, wa_body(wa_message("hello")))
    await until(lambda: len(graph.sent) == 1)
    assert graph.sent[0]["type"] == "template"


async def test_a_reengagement_status_sends_the_reply_again_as_template(
    wa_template: AppClient, graph: GraphFake
) -> None:
    await post_whatsapp(wa_template, wa_body(wa_message("hello")))
    await until(lambda: len(graph.sent) == 1)
    await until_reply(wa_template, lambda r: r.status == "sent")
    await post_whatsapp(wa_template, wa_body(statuses=[wa_status(graph.sent[0]["id"], "failed", 131047)]))
    await until(lambda: len(graph.sent) == 2)
    assert graph.sent[1]["type"] == "template"
    await until_reply(wa_template, lambda r: r.status == "sent" and r.meta.get("via") == "template")


@pytest.mark.parametrize(
    ("mtype", "part", "expected"),
    [
        ("image", {"id": "MEDIA1", "mime_type": "image/jpeg", "sha256": "x"}, "I can't see pictures"),
        ("audio", {"id": "MEDIA2", "mime_type": "audio/ogg"}, "I can't listen to voice messages here"),
        ("video", {"id": "MEDIA3", "mime_type": "video/mp4"}, "I can't watch videos yet"),
        ("reaction", {"message_id": "wamid.X", "emoji": "👍"}, None),
    ],
)
async def test_media_gets_a_short_specific_reply(
    wa: AppClient, graph: GraphFake, fake: FakeOllama, mtype: str, part: dict[str, Any], expected: str | None
) -> None:
    await post_whatsapp(wa, wa_body(wa_message(None, mtype=mtype, part=part)))
    await post_whatsapp(wa, wa_body(wa_message("after")))
    await until(lambda: any(t.endswith("after") for t in texts(graph)))
    replies = [t for t in texts(graph) if not t.endswith("after")]
    assert [r[: len(expected or "")] for r in replies] == ([] if expected is None else [expected])
    assert all("MEDIA" not in str(r) for r in fake.chat_requests)
    stored = await rows(wa, Message)
    assert stored[0].kind == "media"


async def test_a_long_reply_is_split_and_a_retry_resends_no_part(
    wa: AppClient, graph: GraphFake, fake: FakeOllama
) -> None:
    long = ("This is one sentence of a long answer. " * 300).strip()
    fake.push(Step(content=long))
    graph.fail(None, None, Failure(500))  # the read receipt and first part go out, the second fails once
    await post_whatsapp(wa, wa_body(wa_message("tell me everything")))
    await until(lambda: len(graph.sent) == 3, timeout_s=10)
    await asyncio.sleep(0.2)
    parts = texts(graph)
    assert len(parts) == 3
    assert " ".join(parts) == long
    reply = await until_reply(wa, lambda r: r.status == "sent")
    assert reply.provider_id == graph.sent[-1]["id"]
    assert reply.meta["parts_sent"] == "3"


@pytest.mark.parametrize(
    ("missing", "changes"),
    [
        ("HEARTH_WHATSAPP_APP_SECRET", {"whatsapp_app_secret": None}),
        ("HEARTH_WHATSAPP_PHONE_NUMBER_ID", {"whatsapp_phone_number_id": None}),
    ],
)
def test_a_half_configured_channel_names_the_missing_variable(
    settings: Settings, missing: str, changes: dict[str, Any]
) -> None:
    half = dataclasses.replace(
        settings,
        whatsapp_verify_token=Secret("v"),
        whatsapp_app_secret=Secret("s"),
        whatsapp_token=Secret("t"),
        whatsapp_phone_number_id="1",
    )
    with pytest.raises(SettingsError, match=missing):
        create_app(dataclasses.replace(half, **changes))


def test_without_settings_no_webhook_route_exists(settings: Settings) -> None:
    app: web.Application = create_app(settings)
    assert not any(r.resource and r.resource.canonical == "/webhooks/whatsapp" for r in app.router.routes())
