"""The Twilio channel end to end: signed SMS and WhatsApp webhooks → fake model → fake Twilio REST."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select
from twilio.request_validator import RequestValidator

from assistant.app import create_app
from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store.tables import Message, Reply
from tests.channels.webhooks import (
    OWNER_SMS,
    OWNER_WA,
    PUBLIC,
    SMS_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    WA_FROM,
    post_twilio,
    twilio_form,
    twilio_settings,
    until,
)
from tests.conftest import AppClient, MakeClient
from tests.fakes.base import Failure
from tests.fakes.ollama import FakeOllama, Step
from tests.fakes.twilio import TwilioFake


@pytest.fixture
async def tw(aiohttp_client: MakeClient, settings: Settings, twilio_api: TwilioFake) -> AppClient:
    client: AppClient = await aiohttp_client(create_app(twilio_settings(settings, twilio_api)))
    return client


async def replies(client: AppClient) -> list[Reply]:
    return await client.app[STORE].read(lambda s: list(s.exec(select(Reply).order_by(col(Reply.id)))))


async def until_reply(client: AppClient, check: Any, timeout_s: float = 5) -> Reply:
    async with asyncio.timeout(timeout_s):
        while True:
            found = [r for r in await replies(client) if check(r)]
            if found:
                return found[0]
            await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("sender", "to", "from_"),
    [
        (OWNER_SMS, OWNER_SMS, SMS_FROM),
        (f"whatsapp:+{OWNER_WA}", f"whatsapp:+{OWNER_WA}", f"whatsapp:{WA_FROM}"),
    ],
)
async def test_a_signed_message_is_answered_through_the_rest_api(
    tw: AppClient, twilio_api: TwilioFake, sender: str, to: str, from_: str
) -> None:
    response = await post_twilio(tw, twilio_form("Hi there", sender))
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert "<Response/>" in await response.text()
    await until(lambda: len(twilio_api.sent) == 1)
    [sent] = twilio_api.sent
    assert (sent["To"], sent["From"], sent["Body"]) == (to, from_, "echo: Hi there")
    assert sent["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/status"
    reply = await until_reply(tw, lambda r: r.status == "sent")
    assert reply.provider_id == sent["sid"]


async def test_a_forged_webhook_is_refused_and_nothing_is_written(tw: AppClient) -> None:
    form = twilio_form("let me in", OWNER_SMS)
    response = await post_twilio(tw, form, token="not-the-token")
    assert response.status == 403
    unsigned = await tw.post("/webhooks/twilio", data=form)
    assert unsigned.status == 403
    assert await tw.app[STORE].read(lambda s: list(s.exec(select(Message)))) == []


@pytest.mark.parametrize("keep_chars", [27, 14, 1])
async def test_a_truncated_signature_is_refused_and_nothing_is_written(
    tw: AppClient, keep_chars: int
) -> None:
    # The start of the right signature is no signature: a prefix compare would let a forger in.
    form = twilio_form("let me in", OWNER_SMS)
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
    assert len(signature) == 28
    headers = {"X-Twilio-Signature": signature[:keep_chars]}
    response = await tw.post("/webhooks/twilio", data=form, headers=headers)
    assert response.status == 403
    assert await tw.app[STORE].read(lambda s: list(s.exec(select(Message)))) == []


async def test_a_form_without_a_message_sid_gets_400(tw: AppClient) -> None:
    form = {"From": OWNER_SMS, "Body": "hi", "AccountSid": TWILIO_SID}
    assert (await post_twilio(tw, form)).status == 400


async def test_a_message_delivered_three_times_is_answered_once(
    tw: AppClient, twilio_api: TwilioFake
) -> None:
    form = twilio_form("once", OWNER_SMS)
    for _ in range(3):
        assert (await post_twilio(tw, form)).status == 200
    await until(lambda: len(twilio_api.sent) == 1)
    await asyncio.sleep(0.3)
    assert [s["Body"] for s in twilio_api.sent] == ["echo: once"]


async def test_status_callbacks_update_the_reply(tw: AppClient, twilio_api: TwilioFake) -> None:
    await post_twilio(tw, twilio_form("hi", OWNER_SMS))
    await until(lambda: len(twilio_api.sent) == 1)
    await until_reply(tw, lambda r: r.status == "sent")
    sid = twilio_api.sent[0]["sid"]
    callback = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": TWILIO_SID, "To": OWNER_SMS}
    assert (await post_twilio(tw, callback, "/webhooks/twilio/status")).status == 200
    await until_reply(tw, lambda r: r.status == "delivered")
    failed = {**callback, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    await post_twilio(tw, failed, "/webhooks/twilio/status")
    reply = await until_reply(tw, lambda r: r.status == "failed")
    assert reply.error is not None
    assert reply.error.startswith("30003")


async def test_media_is_recorded_and_answered(tw: AppClient, twilio_api: TwilioFake) -> None:
    media = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/1", "MediaContentType0": "image/jpeg"}
    await post_twilio(tw, twilio_form("", f"whatsapp:+{OWNER_WA}", **media))
    await until(lambda: len(twilio_api.sent) == 1)
    assert twilio_api.sent[0]["Body"].startswith("I can't see pictures")
    [message] = await tw.app[STORE].read(lambda s: list(s.exec(select(Message))))
    assert message.meta["media_url_0"] == "https://api.twilio.com/m/1"


async def test_an_outside_window_refusal_takes_the_content_template(
    aiohttp_client: MakeClient, settings: Settings, twilio_api: TwilioFake
) -> None:
    changed = twilio_settings(settings, twilio_api, twilio_template_sid="HX" + "1" * 32)
    client: AppClient = await aiohttp_client(create_app(changed))
    twilio_api.fail(Failure(400, 63016, "Outside the allowed window"))
    await post_twilio(client, twilio_form("hello", f"whatsapp:+{OWNER_WA}"))
    await until(lambda: len(twilio_api.sent) == 1)
    assert twilio_api.sent[0]["ContentSid"] == "HX" + "1" * 32
    assert "echo: hello" in twilio_api.sent[0]["ContentVariables"]


async def test_server_errors_are_retried_until_every_reply_arrives_once(
    tw: AppClient, twilio_api: TwilioFake
) -> None:
    twilio_api.fail(*[Failure(500) for _ in range(4)], Failure(429, 20429, "Too many requests"))
    for n in range(3):
        await post_twilio(tw, twilio_form(f"m{n}", OWNER_SMS))
        await asyncio.sleep(0.1)
    await until(lambda: "m2" in " ".join(s["Body"] for s in twilio_api.sent), timeout_s=15)
    await asyncio.sleep(0.3)
    bodies = " | ".join(s["Body"] for s in twilio_api.sent).replace("echo: ", "").split(" | ")
    assert sorted(bodies) == ["m0", "m1", "m2"]


async def test_an_undelivered_status_that_arrives_while_parts_go_out_fails_the_reply(
    tw: AppClient, twilio_api: TwilioFake, fake: FakeOllama
) -> None:
    fake.push(Step(content=("One sentence of a long text message. " * 100).strip()))  # three parts
    twilio_api.hold(after=1)
    await post_twilio(tw, twilio_form("tell me everything", OWNER_SMS))
    await until(lambda: twilio_api.holding == 1)
    sid = twilio_api.sent[0]["sid"]
    undelivered = {"MessageSid": sid, "MessageStatus": "undelivered", "AccountSid": TWILIO_SID}
    callback = {**undelivered, "To": OWNER_SMS, "ErrorCode": "30003"}
    assert (await post_twilio(tw, callback, "/webhooks/twilio/status")).status == 200
    twilio_api.release()
    reply = await until_reply(tw, lambda r: r.status != "pending")
    assert len(twilio_api.sent) == 3
    assert reply.status == "failed"
    assert reply.error is not None
    assert reply.error.startswith("30003")
