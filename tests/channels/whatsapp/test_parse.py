"""WhatsApp webhook signature, handshake and payload parsing, from realistic payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.channels.base import PayloadError, StatusUpdate
from assistant.channels.whatsapp.parse import (
    addresses,
    parse_webhook,
    verify_challenge,
    verify_signature,
)
from assistant.types import Address

SECRET = "app-secret"
BODY = b'{"object":"whatsapp_business_account","note":"caf\\u00e9"}'


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("secret", "body", "header", "ok"),
    [
        (SECRET, BODY, sign(SECRET, BODY), True),
        (SECRET, BODY, sign(SECRET, BODY).upper().replace("SHA256=", "sha256="), True),
        (SECRET, BODY, sign("other", BODY), False),
        (SECRET, BODY, sign(SECRET, BODY + b" "), False),
        (SECRET, BODY, sign(SECRET, BODY).removeprefix("sha256="), False),
        (SECRET, BODY, "sha1=" + sign(SECRET, BODY).removeprefix("sha256="), False),
        (SECRET, BODY, None, False),
        (SECRET, BODY, "", False),
        (SECRET, BODY, "sha256=", False),
        (SECRET, BODY, "sha256=caf\u00e9", False),
        ("", BODY, sign("", BODY), False),
    ],
)
def test_verify_signature(secret: str, body: bytes, header: str | None, ok: bool) -> None:
    assert verify_signature(secret, body, header) is ok


@pytest.mark.parametrize(
    ("query", "token", "expected"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "42"}, "vt", "42"),
        ({"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "42"}, "vt", None),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "vt", "hub.challenge": "42"}, "vt", None),
        ({"hub.mode": "subscribe", "hub.verify_token": "vt"}, "vt", None),
        ({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "", None),
        (
            {"hub.mode": "subscribe", "hub.verify_token": "v\u00e9", "hub.challenge": "1"},
            "vt",
            None,
        ),
        ({}, "vt", None),
    ],
)
def test_verify_challenge(query: dict[str, str], token: str, expected: str | None) -> None:
    assert verify_challenge(query, token) == expected


CONTACT = {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234", "user_id": "US.1349"}


def notification(
    *, messages: list[Any] | None = None, statuses: list[Any] | None = None, contacts: Any = None
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
    }
    if messages is not None:
        value["contacts"] = [CONTACT] if contacts is None else contacts
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [change]}]}


def message(mtype: str, part: Any = None, **extra: Any) -> dict[str, Any]:
    found = {"from": "16505551234", "id": "wamid.A1", "timestamp": "1749416383", "type": mtype}
    if part is not None:
        found[mtype] = part
    return {**found, **extra}


NO_SENDER = {"id": "wamid.A1", "timestamp": "1749416383", "type": "text", "text": {"body": "x"}}


def parse(payload: Any) -> Any:
    return parse_webhook(json.dumps(payload).encode())


AT = datetime.fromtimestamp(1749416383, UTC)


@pytest.mark.parametrize(
    ("msg", "kind", "text", "meta"),
    [
        (message("text", {"body": "Does it come in red?"}), "text", "Does it come in red?", {}),
        (
            message(
                "interactive",
                {"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}},
            ),
            "text",
            "Yes",
            {"reply_id": "b1"},
        ),
        (
            message(
                "interactive",
                {
                    "type": "list_reply",
                    "list_reply": {"id": "r2", "title": "Tomorrow", "description": "d"},
                },
            ),
            "text",
            "Tomorrow",
            {"reply_id": "r2"},
        ),
        (
            message("button", {"text": "Stop", "payload": "STOP"}),
            "text",
            "Stop",
            {"button_payload": "STOP"},
        ),
        (
            message("image", {"id": "m1", "mime_type": "image/jpeg", "sha256": "x", "caption": "look"}),
            "media",
            "look",
            {"media_id": "m1", "mime_type": "image/jpeg"},
        ),
        (
            message("audio", {"id": "m2", "mime_type": "audio/ogg; codecs=opus", "voice": True}),
            "media",
            "",
            {"media_id": "m2"},
        ),
        (
            message("document", {"id": "m3", "mime_type": "application/pdf", "filename": "a.pdf"}),
            "media",
            "",
            {"filename": "a.pdf"},
        ),
        (
            message("sticker", {"id": "m4", "mime_type": "image/webp", "animated": False}),
            "media",
            "",
            {"media_id": "m4"},
        ),
        (
            message("location", {"latitude": 52.5, "longitude": 13.4, "name": "Home"}),
            "media",
            "",
            {"latitude": "52.5", "longitude": "13.4", "name": "Home"},
        ),
        (
            message("reaction", {"message_id": "wamid.OUT", "emoji": "👍"}),
            "media",
            "",
            {"emoji": "👍", "reacted_to": "wamid.OUT"},
        ),
        (
            message("contacts", [{"name": {"formatted_name": "Bob"}}]),
            "media",
            "",
            {"type": "contacts"},
        ),
        (
            message("unsupported", errors=[{"code": 131051, "title": "Message type unknown"}]),
            "media",
            "",
            {"error_code": "131051"},
        ),
        (
            message("interactive", {"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}),
            "media",
            "",
            {"type": "interactive"},
        ),
        (
            message("text", {"body": "re"}, context={"from": "1555", "id": "wamid.PREV"}),
            "text",
            "re",
            {"context_id": "wamid.PREV"},
        ),
    ],
)
def test_parse_message_types(msg: dict[str, Any], kind: str, text: str, meta: dict[str, str]) -> None:
    batch = parse(notification(messages=[msg]))
    (inbound,) = batch.messages
    assert (inbound.kind, inbound.text) == (kind, text)
    assert meta.items() <= dict(inbound.meta).items()
    assert inbound.meta["type"] == msg["type"]
    assert inbound.channel == "whatsapp"
    assert inbound.provider_id == "wamid.A1"
    assert inbound.received_at == AT


def test_text_message_keys_sender_by_user_id_and_keeps_phone_and_profile() -> None:
    (inbound,) = parse(notification(messages=[message("text", {"body": "hi"})])).messages
    assert inbound.sender == Address("whatsapp", "US.1349")
    assert inbound.meta["wa_id"] == "16505551234"
    assert inbound.meta["profile_name"] == "Sheena Nelson"
    assert inbound.meta["phone_number_id"] == "106540352242922"
    assert addresses(inbound) == (
        Address("whatsapp", "US.1349"),
        Address("whatsapp", "+16505551234"),
    )


def test_username_user_without_wa_id() -> None:
    contact = {"profile": {"name": "M", "username": "@maria"}, "user_id": "BR.150257"}
    msg = message("text", {"body": "oi"})
    del msg["from"]
    (inbound,) = parse(notification(messages=[msg], contacts=[contact])).messages
    assert inbound.sender == Address("whatsapp", "BR.150257")
    assert "wa_id" not in inbound.meta
    assert inbound.meta["username"] == "@maria"
    assert addresses(inbound) == (Address("whatsapp", "BR.150257"),)


def test_sender_without_user_id_falls_back_to_phone() -> None:
    contact = {"profile": {"name": "Old"}, "wa_id": "16505551234"}
    (inbound,) = parse(notification(messages=[message("text", {"body": "x"})], contacts=[contact])).messages
    assert inbound.sender == Address("whatsapp", "+16505551234")


def test_contacts_are_matched_to_their_message() -> None:
    other = {"profile": {"name": "Other"}, "wa_id": "111", "user_id": "US.1"}
    msgs = [
        message("text", {"body": "a"}, id="w1", **{"from": "111"}),
        message("text", {"body": "b"}, id="w2"),
    ]
    first, second = parse(notification(messages=msgs, contacts=[other, CONTACT])).messages
    assert first.sender == Address("whatsapp", "US.1")
    assert second.sender == Address("whatsapp", "US.1349")


def test_statuses_with_and_without_errors() -> None:
    statuses = [
        {
            "id": "wamid.S1",
            "status": "delivered",
            "timestamp": "1749416400",
            "recipient_id": "1650",
            "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"},
        },
        {
            "id": "wamid.S2",
            "status": "failed",
            "timestamp": "1749416401",
            "recipient_id": "1650",
            "errors": [
                {
                    "code": 131047,
                    "title": "Re-engagement message",
                    "message": "Re-engagement message",
                }
            ],
        },
    ]
    batch = parse(notification(statuses=statuses))
    assert batch.messages == ()
    assert batch.statuses == (
        StatusUpdate("wamid.S1", "delivered", datetime.fromtimestamp(1749416400, UTC)),
        StatusUpdate(
            "wamid.S2",
            "failed",
            datetime.fromtimestamp(1749416401, UTC),
            "131047",
            "Re-engagement message",
        ),
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "page", "entry": [{"id": "1", "messaging": []}]},
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"event": "X"}}]}],
        },
        {"object": "whatsapp_business_account", "entry": []},
        notification(),
    ],
)
def test_unknown_but_well_formed_payloads_are_skipped(payload: dict[str, Any]) -> None:
    batch = parse(payload)
    assert batch.messages == ()
    assert batch.statuses == ()


def test_unknown_fields_are_noted() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "account_update", "value": {}}]}],
    }
    assert parse(payload).skipped == ("field 'account_update'",)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"[" * 100_000,
        json.dumps({"object": "whatsapp_business_account", "entry": {}}).encode(),
        json.dumps({"object": "whatsapp_business_account", "entry": [1]}).encode(),
        json.dumps(notification(messages=[message("text", {"body": ["x"]})])).encode(),
        json.dumps(notification(messages=[{"type": "text", "text": {"body": "x"}}])).encode(),
        json.dumps(notification(messages=[message("text", {"body": "x"}, timestamp="soon")])).encode(),
        json.dumps(notification(messages=[message("text", {"body": "x"}, timestamp="9" * 30)])).encode(),
        json.dumps(notification(messages=[NO_SENDER], contacts=[{"profile": {}}])).encode(),
        json.dumps(notification(statuses=[{"id": "w", "status": ["read"]}])).encode(),
    ],
)
def test_malformed_payloads_raise_payload_error(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_webhook(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
keys = st.sampled_from(
    [
        "object",
        "entry",
        "changes",
        "field",
        "value",
        "messages",
        "statuses",
        "contacts",
        "id",
        "type",
        "text",
        "body",
        "from",
        "timestamp",
        "user_id",
        "wa_id",
        "errors",
        "code",
        "context",
        "interactive",
        "button_reply",
        "title",
        "status",
        "metadata",
        "profile",
        "image",
        "caption",
    ]
)
shaped = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "whatsapp_business_account",
            "messages",
            "text",
            "interactive",
            "button_reply",
            "image",
            "1749416383",
        ]
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=5),
    max_leaves=40,
)


@given(json_values)
def test_arbitrary_json_gives_a_batch_or_payload_error(value: object) -> None:
    check_parses_or_refuses(json.dumps(value).encode())


@given(shaped)
def test_payload_shaped_json_gives_a_batch_or_payload_error(value: object) -> None:
    check_parses_or_refuses(json.dumps({"object": "whatsapp_business_account", "entry": [value]}).encode())


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_a_batch_or_payload_error(raw: bytes) -> None:
    check_parses_or_refuses(raw)


def check_parses_or_refuses(raw: bytes) -> None:
    try:
        batch = parse_webhook(raw)
    except PayloadError:
        return
    for inbound in batch.messages:
        assert inbound.sender.id
        assert inbound.provider_id
        assert all(isinstance(v, str) for v in inbound.meta.values())
