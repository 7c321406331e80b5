"""Signed webhook deliveries for tests: Meta's HMAC computed here, Twilio's by its own package."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse
from twilio.request_validator import RequestValidator

from assistant.settings import Secret, Settings
from assistant.types import Address
from tests.conftest import AppClient
from tests.fakes.graph import GraphFake
from tests.fakes.twilio import TwilioFake

APP_SECRET = "app-secret"
VERIFY_TOKEN = "verify-me"
GRAPH_TOKEN = "test-token"
PHONE_NUMBER_ID = "106540352242922"
OWNER_WA = "16505551234"
OWNER_BSUID = "US.13491208655302741918"
PUBLIC = "https://hearth.example.org"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-auth-token"
SMS_FROM = "+15557654321"
WA_FROM = "+14155238886"
OWNER_SMS = "+15551230000"

_ids = itertools.count(1)


def whatsapp_settings(settings: Settings, graph: GraphFake, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "whatsapp_verify_token": Secret(VERIFY_TOKEN),
        "whatsapp_app_secret": Secret(APP_SECRET),
        "whatsapp_token": Secret(GRAPH_TOKEN),
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_api_url": graph.url,
        "owners": (Address("whatsapp", f"+{OWNER_WA}"), Address("sms", OWNER_SMS)),
    }
    return replace(settings, **{**values, **changes})


def twilio_settings(settings: Settings, fake: TwilioFake, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": PUBLIC,
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": Secret(TWILIO_TOKEN),
        "twilio_sms_from": SMS_FROM,
        "twilio_whatsapp_from": WA_FROM,
        "twilio_api_url": fake.url,
        "owners": (Address("whatsapp", f"+{OWNER_WA}"), Address("sms", OWNER_SMS)),
    }
    return replace(settings, **{**values, **changes})


def new_wamid() -> str:
    return f"wamid.IN{next(_ids):06d}"


def wa_message(
    text: str | None = "hello",
    *,
    wamid: str | None = None,
    wa_id: str | None = OWNER_WA,
    user_id: str | None = OWNER_BSUID,
    mtype: str = "text",
    part: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One entry of `messages[]` with its contact, as Meta sends them."""
    stamp = str(int((at or datetime.now(UTC)).timestamp()))
    message: dict[str, Any] = {"id": wamid or new_wamid(), "timestamp": stamp, "type": mtype}
    if wa_id:
        message["from"] = wa_id
    message[mtype] = part if part is not None else {"body": text}
    contact: dict[str, Any] = {"profile": {"name": "Sheena"}}
    contact.update({k: v for k, v in (("wa_id", wa_id), ("user_id", user_id)) if v})
    return {"message": message, "contact": contact}


def wa_body(*items: dict[str, Any], statuses: list[dict[str, Any]] | None = None) -> bytes:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
    }
    if items:
        value["contacts"] = [items[0]["contact"]]
        value["messages"] = [item["message"] for item in items]
    if statuses:
        value["statuses"] = statuses
    change = {"field": "messages", "value": value}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [change]}]}
    return json.dumps(body).encode()


def wa_status(wamid: str, status: str, code: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": "1749416400",
        "recipient_id": OWNER_WA,
    }
    if code is not None:
        item["errors"] = [{"code": code, "title": "Re-engagement message"}]
    return item


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_whatsapp(client: AppClient, body: bytes, signature: str | None = "") -> ClientResponse:
    """POST a notification, signed correctly unless `signature` is given (None: no header)."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature or meta_signature(body)
    return await client.post("/webhooks/whatsapp", data=body, headers=headers)


def twilio_form(body: str, sender: str, **extra: str) -> dict[str, str]:
    form = {
        "MessageSid": f"SM{next(_ids):032d}",
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": f"whatsapp:{WA_FROM}" if sender.startswith("whatsapp:") else SMS_FROM,
        "Body": body,
        "NumMedia": "0",
    }
    form.update(extra)
    return form


async def post_twilio(
    client: AppClient, form: dict[str, str], path: str = "/webhooks/twilio", token: str = TWILIO_TOKEN
) -> ClientResponse:
    """POST a form signed the way Twilio signs it: over the public URL it called."""
    signature = RequestValidator(token).compute_signature(PUBLIC + path, form)
    return await client.post(path, data=form, headers={"X-Twilio-Signature": signature})


async def until(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)
