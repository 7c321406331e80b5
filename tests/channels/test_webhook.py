"""A webhook answers 200 only once its message is stored: a store that fails gets 503 with nothing
stored, and the provider's next delivery of the same message is stored once and answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from assistant.app import create_app
from assistant.keys import STORE
from assistant.settings import Settings
from assistant.store.tables import Message
from tests.channels.webhooks import (
    OWNER_SMS,
    post_twilio,
    post_whatsapp,
    twilio_form,
    twilio_settings,
    until,
    wa_body,
    wa_message,
    whatsapp_settings,
)
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.twilio import TwilioFake
from tests.faults.triggers import refusing


def database(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


async def stored(client: AppClient) -> list[str]:
    return await client.app[STORE].read(lambda s: [m.text for m in s.exec(select(Message))])


async def test_whatsapp_gets_503_while_the_store_fails_and_the_redelivery_is_answered(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, caplog: pytest.LogCaptureFixture
) -> None:
    wa: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph)))
    body = wa_body(wa_message("are you there?"))
    with refusing(database(settings), "message"):
        response = await post_whatsapp(wa, body)
        assert response.status == 503
        assert await response.text() == "try again later"
    assert await stored(wa) == []
    assert "disk I/O error" in caplog.text

    response = await post_whatsapp(wa, body)
    assert response.status == 200
    # Acknowledged means stored: the row is there the moment the 200 is.
    assert await stored(wa) == ["are you there?"]
    await until(lambda: len(graph.sent) == 1)
    assert graph.sent[0]["text"]["body"] == "echo: are you there?"


async def test_twilio_gets_503_while_the_store_fails_and_the_redelivery_is_answered(
    aiohttp_client: MakeClient, settings: Settings, twilio_api: TwilioFake
) -> None:
    tw: AppClient = await aiohttp_client(create_app(twilio_settings(settings, twilio_api)))
    form = twilio_form("are you there?", OWNER_SMS)
    with refusing(database(settings), "message"):
        response = await post_twilio(tw, form)
        assert response.status == 503
    assert await stored(tw) == []

    response = await post_twilio(tw, form)
    assert response.status == 200
    assert await stored(tw) == ["are you there?"]
    await until(lambda: len(twilio_api.sent) == 1)
    assert twilio_api.sent[0]["Body"] == "echo: are you there?"
