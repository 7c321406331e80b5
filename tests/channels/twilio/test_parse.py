"""Twilio webhook signatures (computed by the twilio package itself) and form parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import HMAC_SHA256, RequestValidator

from assistant.channels.base import PayloadError, StatusUpdate
from assistant.channels.twilio.parse import (
    parse_message,
    parse_status,
    public_url,
    sender_address,
    verify_signature,
)
from assistant.types import Address

TOKEN = "auth-token"
SHARED = "shared-key-secret"
URL = "https://hearth.example.org/webhooks/twilio?x=1"
FORM = {"MessageSid": "SM1", "From": "whatsapp:+15551234567", "Body": "Hi there"}
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SETTINGS = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"


def signed(secret: str, url: str = URL, form: dict[str, str] = FORM, algorithm: str | None = None) -> str:
    return str(RequestValidator(secret).compute_signature(url, form, algorithm))


@pytest.mark.parametrize(
    ("url", "form", "headers", "shared", "ok"),
    [
        (URL, FORM, {"X-Twilio-Signature": signed(TOKEN)}, None, True),
        (
            "https://hearth.example.org:443/webhooks/twilio?x=1",
            FORM,
            {"X-Twilio-Signature": signed(TOKEN)},
            None,
            True,
        ),
        (URL, FORM, {"X-Twilio-Signature": signed("wrong")}, None, False),
        (URL, {**FORM, "Body": "changed"}, {"X-Twilio-Signature": signed(TOKEN)}, None, False),
        (
            "https://hearth.example.org/webhooks/twilio",
            FORM,
            {"X-Twilio-Signature": signed(TOKEN)},
            None,
            False,
        ),
        (URL, FORM, {}, None, False),
        (URL, FORM, {"X-Twilio-Signature": ""}, None, False),
        (
            URL,
            FORM,
            {
                "X-Twilio-Signature": signed(SHARED, algorithm=HMAC_SHA256),
                "X-Twilio-Webhooks-Signature-Settings": SETTINGS,
            },
            SHARED,
            True,
        ),
        (
            URL,
            FORM,
            {
                "X-Twilio-Signature": signed(TOKEN, algorithm=HMAC_SHA256),
                "X-Twilio-Webhooks-Signature-Settings": SETTINGS,
            },
            None,
            True,
        ),
        (
            URL,
            FORM,
            {
                "X-Twilio-Signature": signed(SHARED),
                "X-Twilio-Webhooks-Signature-Settings": SETTINGS,
            },
            SHARED,
            False,
        ),
        (
            URL,
            FORM,
            {
                "X-Twilio-Signature": signed(TOKEN),
                "X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_MD5",
            },
            None,
            False,
        ),
    ],
)
def test_verify_signature(
    url: str, form: dict[str, str], headers: dict[str, str], shared: str | None, ok: bool
) -> None:
    assert verify_signature(TOKEN, url, form, headers, shared_key_secret=shared) is ok


def test_verify_signature_takes_a_multidict_with_repeated_keys() -> None:
    form = MultiDict([("MessageSid", "SM1"), ("Tag", "b"), ("Tag", "a")])
    signature = RequestValidator(TOKEN).compute_signature(URL, form)
    assert verify_signature(TOKEN, URL, form, {"X-Twilio-Signature": signature})
    assert not verify_signature(
        TOKEN,
        URL,
        MultiDict([("MessageSid", "SM1"), ("Tag", "b")]),
        {"X-Twilio-Signature": signature},
    )


@pytest.mark.parametrize(
    ("base", "path_qs", "url"),
    [
        ("https://h.example.org", "/webhooks/twilio", "https://h.example.org/webhooks/twilio"),
        (
            "https://h.example.org/",
            "/webhooks/twilio?a=1&b=2",
            "https://h.example.org/webhooks/twilio?a=1&b=2",
        ),
        (
            "https://h.example.org/hearth/",
            "/webhooks/twilio",
            "https://h.example.org/hearth/webhooks/twilio",
        ),
    ],
)
def test_public_url(base: str, path_qs: str, url: str) -> None:
    assert public_url(base, path_qs) == url


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("whatsapp:+15551234567", Address("whatsapp", "+15551234567")),
        ("+15551234567", Address("sms", "+15551234567")),
        (" +15551234567 ", Address("sms", "+15551234567")),
        ("messenger:123", Address("messenger", "123")),
    ],
)
def test_sender_address(value: str, address: Address) -> None:
    assert sender_address(value) == address


@pytest.mark.parametrize("value", ["", "whatsapp:", ":123", "   "])
def test_sender_address_refuses_empty_parts(value: str) -> None:
    with pytest.raises(PayloadError):
        sender_address(value)


WHATSAPP_TEXT = {
    "SmsMessageSid": "SM1",
    "MessageSid": "SM1",
    "AccountSid": "AC1",
    "From": "whatsapp:+15551234567",
    "To": "whatsapp:+14155238886",
    "Body": "What's on today?",
    "NumMedia": "0",
    "NumSegments": "1",
    "ProfileName": "Ana",
    "WaId": "15551234567",
    "MessageType": "text",
    "ApiVersion": "2010-04-01",
}
SMS_IMAGE = {
    "MessageSid": "MM2",
    "From": "+15551234567",
    "To": "+15557654321",
    "Body": "look",
    "NumMedia": "2",
    "MediaUrl0": "https://api.twilio.com/m/0",
    "MediaContentType0": "image/jpeg",
    "MediaUrl1": "https://api.twilio.com/m/1",
    "MediaContentType1": "image/png",
}


@pytest.mark.parametrize(
    ("form", "sender", "kind", "text", "meta"),
    [
        (
            WHATSAPP_TEXT,
            Address("whatsapp", "+15551234567"),
            "text",
            "What's on today?",
            {"type": "text", "profile_name": "Ana", "wa_id": "15551234567", "num_media": "0"},
        ),
        (
            SMS_IMAGE,
            Address("sms", "+15551234567"),
            "media",
            "look",
            {
                "type": "image",
                "num_media": "2",
                "media_url_1": "https://api.twilio.com/m/1",
                "media_type_1": "image/png",
            },
        ),
        (
            {**SMS_IMAGE, "NumMedia": "1", "MediaContentType0": "audio/ogg", "Body": ""},
            Address("sms", "+15551234567"),
            "media",
            "",
            {"type": "audio"},
        ),
        (
            {**SMS_IMAGE, "NumMedia": "1", "MediaContentType0": "application/pdf"},
            Address("sms", "+15551234567"),
            "media",
            "look",
            {"type": "document"},
        ),
        (
            {**SMS_IMAGE, "NumMedia": "1", "MediaContentType0": "text/vcard"},
            Address("sms", "+15551234567"),
            "media",
            "look",
            {"type": "contacts"},
        ),
        (
            {
                **WHATSAPP_TEXT,
                "MessageType": "location",
                "Body": "",
                "Latitude": "52.5",
                "Longitude": "13.4",
            },
            Address("whatsapp", "+15551234567"),
            "media",
            "",
            {"type": "location", "latitude": "52.5"},
        ),
        (
            {**WHATSAPP_TEXT, "MessageType": "button", "Body": "Yes", "ButtonText": "Yes"},
            Address("whatsapp", "+15551234567"),
            "text",
            "Yes",
            {"type": "text"},
        ),
        (
            {"MessageSid": "SM3", "From": "+1555", "Body": "  "},
            Address("sms", "+1555"),
            "media",
            "  ",
            {"type": "unsupported"},
        ),
    ],
)
def test_parse_message(
    form: dict[str, str], sender: Address, kind: str, text: str, meta: dict[str, str]
) -> None:
    inbound = parse_message(form, NOW)
    assert (inbound.channel, inbound.sender, inbound.kind, inbound.text) == (
        "twilio",
        sender,
        kind,
        text,
    )
    assert inbound.provider_id == form["MessageSid"]
    assert inbound.received_at == NOW
    assert meta.items() <= dict(inbound.meta).items()


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"From": "+1555", "Body": "no sid"},
        {"MessageSid": "SM1", "Body": "no sender"},
        {**WHATSAPP_TEXT, "NumMedia": "many"},
        {**WHATSAPP_TEXT, "NumMedia": "-1"},
        {**WHATSAPP_TEXT, "NumMedia": "11"},
        {**WHATSAPP_TEXT, "NumMedia": "٣"},
    ],
)
def test_parse_message_refuses_broken_forms(form: dict[str, str]) -> None:
    with pytest.raises(PayloadError):
        parse_message(form, NOW)


@pytest.mark.parametrize(
    ("form", "update"),
    [
        (
            {"MessageSid": "SM1", "MessageStatus": "delivered", "From": "+1", "To": "+2"},
            StatusUpdate("SM1", "delivered"),
        ),
        ({"SmsSid": "SM1", "SmsStatus": "sent"}, StatusUpdate("SM1", "sent")),
        (
            {
                "MessageSid": "SM1",
                "MessageStatus": "failed",
                "ErrorCode": "63016",
                "ErrorMessage": "outside window",
            },
            StatusUpdate("SM1", "failed", None, "63016", "outside window"),
        ),
        (
            {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"},
            StatusUpdate("SM1", "undelivered", None, "30003"),
        ),
    ],
)
def test_parse_status(form: dict[str, str], update: StatusUpdate) -> None:
    assert parse_status(form) == update


@pytest.mark.parametrize("form", [{}, {"MessageSid": "SM1"}, {"MessageStatus": "sent"}])
def test_parse_status_refuses_broken_forms(form: dict[str, str]) -> None:
    with pytest.raises(PayloadError):
        parse_status(form)


form_keys = st.sampled_from(
    [
        "MessageSid",
        "SmsMessageSid",
        "From",
        "To",
        "Body",
        "NumMedia",
        "MediaUrl0",
        "MediaContentType0",
        "MessageType",
        "MessageStatus",
        "SmsSid",
        "ErrorCode",
        "ProfileName",
        "WaId",
    ]
) | st.text(max_size=10)
forms = st.dictionaries(form_keys, st.text(max_size=20) | st.integers(-3, 12).map(str), max_size=10)


@given(forms)
def test_arbitrary_forms_give_a_message_or_payload_error(form: dict[str, str]) -> None:
    try:
        inbound = parse_message(form, NOW)
    except PayloadError:
        return
    assert inbound.sender.id.strip()
    assert all(isinstance(v, str) for v in inbound.meta.values())


@given(forms)
def test_arbitrary_forms_give_a_status_or_payload_error(form: dict[str, str]) -> None:
    try:
        update = parse_status(form)
    except PayloadError:
        return
    assert update.provider_id


@given(forms, st.text(max_size=30))
def test_arbitrary_forms_and_signatures_never_raise(form: dict[str, str], signature: str) -> None:
    assert verify_signature(TOKEN, URL, form, {"X-Twilio-Signature": signature}) in (True, False)
