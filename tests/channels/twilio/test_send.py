"""The Twilio sender, through the twilio package's async client, against the fake Twilio API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from assistant.channels.base import SendError
from assistant.channels.split import send_split
from assistant.channels.twilio.send import TwilioSender, addresses_for
from assistant.types import Address
from tests.fakes.base import Failure
from tests.fakes.twilio import TwilioFake

SMS = Address("sms", "+15551234567")
WHATSAPP = Address("whatsapp", "+15551234567")


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioFake]:
    async with TwilioFake() as server:
        yield server


def open_sender(
    twilio: TwilioFake, auth_token: str = "test-auth-token", timeout_s: float = 5
) -> TwilioSender:
    return TwilioSender.open(
        account_sid=twilio.account_sid,
        auth_token=auth_token,
        api_url=twilio.url,
        sms_from="+15557654321",
        whatsapp_from="+14155238886",
        status_callback="https://hearth.example.org/webhooks/twilio/status",
        timeout_s=timeout_s,
    )


async def test_send_sms(twilio: TwilioFake) -> None:
    async with open_sender(twilio) as sender:
        sid = await sender.send_text(SMS, "Hello")
    assert sid.startswith("SM")
    (sent,) = twilio.sent
    assert sent["To"] == "+15551234567"
    assert sent["From"] == "+15557654321"
    assert sent["Body"] == "Hello"
    assert sent["StatusCallback"] == "https://hearth.example.org/webhooks/twilio/status"
    assert sent["sid"] == sid


async def test_send_whatsapp_prefixes_both_numbers(twilio: TwilioFake) -> None:
    async with open_sender(twilio) as sender:
        await sender.send_text(WHATSAPP, "Hello")
    assert (twilio.sent[0]["To"], twilio.sent[0]["From"]) == (
        "whatsapp:+15551234567",
        "whatsapp:+14155238886",
    )


async def test_send_template_uses_content_sid_and_variables(twilio: TwilioFake) -> None:
    async with open_sender(twilio) as sender:
        await sender.send_template(WHATSAPP, "HX123", "Bins out\ntonight")
    sent = twilio.sent[0]
    assert sent["ContentSid"] == "HX123"
    assert json.loads(sent["ContentVariables"]) == {"1": "Bins out tonight"}
    assert "Body" not in sent


@pytest.mark.parametrize(
    ("failure", "retryable", "template_needed", "code"),
    [
        (Failure(400, 63016, "Outside the allowed window"), False, True, "63016"),
        (Failure(429, 20429, "Too Many Requests"), True, False, "20429"),
        (Failure(500, 20500, "Internal Server Error"), True, False, "20500"),
        (Failure(503, None, "Service Unavailable"), True, False, "503"),
        (Failure(400, 21211, "Invalid 'To' Phone Number"), False, False, "21211"),
        (Failure(400, 21610, "Attempt to send to unsubscribed recipient"), False, False, "21610"),
    ],
)
async def test_errors_are_classified(
    twilio: TwilioFake, failure: Failure, retryable: bool, template_needed: bool, code: str
) -> None:
    twilio.fail(failure)
    async with open_sender(twilio) as sender:
        with pytest.raises(SendError) as caught:
            await sender.send_text(SMS, "Hello")
    error = caught.value
    assert (error.retryable, error.template_needed, error.code) == (
        retryable,
        template_needed,
        code,
    )
    assert error.status == failure.status
    assert failure.message in error.reason
    assert twilio.sent == []


async def test_wrong_credentials_are_permanent(twilio: TwilioFake) -> None:
    async with open_sender(twilio, auth_token="wrong") as sender:
        with pytest.raises(SendError) as caught:
            await sender.send_text(SMS, "Hello")
    assert (caught.value.retryable, caught.value.code, caught.value.status) == (False, "20003", 401)


async def test_a_slow_server_is_a_retryable_timeout(twilio: TwilioFake) -> None:
    twilio.fail(Failure(201, delay_s=1.0))
    async with open_sender(twilio, timeout_s=0.2) as sender:
        with pytest.raises(SendError) as caught:
            await sender.send_text(SMS, "Hello")
    assert caught.value.retryable


async def test_a_closed_port_is_a_retryable_network_error() -> None:
    async with TwilioFake() as gone:
        pass
    async with open_sender(gone) as sender:
        with pytest.raises(SendError) as caught:
            await sender.send_text(SMS, "Hello")
    assert caught.value.retryable


async def test_long_replies_go_in_parts_of_at_most_1600(twilio: TwilioFake) -> None:
    text = "\n".join(f"Line {n}: " + "word " * 20 for n in range(60))
    async with open_sender(twilio) as sender:
        sids = await send_split(sender, SMS, text)
    bodies = [sent["Body"] for sent in twilio.sent]
    assert len(sids) == len(bodies) > 1
    assert all(len(body) <= 1600 for body in bodies)
    assert bodies[1].startswith("Line ")


async def test_split_sending_resumes_after_a_failure(twilio: TwilioFake) -> None:
    text = "a" * 1500 + ". " + "b" * 1500 + ". " + "c" * 100
    async with open_sender(twilio) as sender:
        twilio.fail(None, Failure(500))
        with pytest.raises(SendError) as caught:
            await send_split(sender, SMS, text)
        await send_split(sender, SMS, text, skip=caught.value.delivered_parts)
    assert [sent["Body"][0] for sent in twilio.sent] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("to", "sms_from", "whatsapp_from", "pair"),
    [
        (SMS, "+1000", None, ("+1000", "+15551234567")),
        (WHATSAPP, None, "whatsapp:+1000", ("whatsapp:+1000", "whatsapp:+15551234567")),
        (WHATSAPP, "+1000", "+2000", ("whatsapp:+2000", "whatsapp:+15551234567")),
    ],
)
def test_addresses_for(
    to: Address, sms_from: str | None, whatsapp_from: str | None, pair: tuple[str, str]
) -> None:
    assert addresses_for(to, sms_from, whatsapp_from) == pair


@pytest.mark.parametrize(
    ("to", "sms_from", "whatsapp_from"),
    [(SMS, None, "+2000"), (WHATSAPP, "+1000", None), (Address("api", "alice"), "+1", "+2")],
)
def test_addresses_for_without_a_number(to: Address, sms_from: str | None, whatsapp_from: str | None) -> None:
    with pytest.raises(SendError) as caught:
        addresses_for(to, sms_from, whatsapp_from)
    assert not caught.value.retryable
