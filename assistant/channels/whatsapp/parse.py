"""WhatsApp Cloud API webhooks: the signature, the verification handshake and the payload."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from assistant.channels.base import PayloadError, StatusUpdate, WebhookBatch
from assistant.types import Address, Inbound, MessageKind

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
READ_TYPES = MEDIA_TYPES | {"text", "button", "interactive", "reaction", "location"}

Obj = dict[str, Any]


BUTTON_PREFIX = "approval:"


def button_id(code: str, yes: bool) -> str:
    """The reply id of an approval button: `approval:CODE:yes` or `approval:CODE:no`."""
    return f"{BUTTON_PREFIX}{code}:{'yes' if yes else 'no'}"


def button_command(reply_id: str) -> str | None:
    """`/yes CODE` or `/no CODE` for a tapped approval button's reply id; None for other ids."""
    code, _, answer = reply_id.removeprefix(BUTTON_PREFIX).partition(":")
    if not reply_id.startswith(BUTTON_PREFIX) or not code.isalnum() or answer not in ("yes", "no"):
        return None
    return f"/{answer} {code}"


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=<hex HMAC-SHA256(app_secret, raw_body)>`.

    The comparison takes constant time; an empty secret or a missing header never passes.
    """
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    given = header.removeprefix("sha256=").strip().lower()
    # Bytes, because compare_digest refuses str holding non-ASCII characters.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def verify_challenge(query: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo back when the GET handshake names our token, else None (403)."""
    if not verify_token or query.get("hub.mode") != "subscribe":
        return None
    token = query.get("hub.verify_token", "")
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge") or None


def parse_webhook(raw: bytes) -> WebhookBatch:
    """Read one notification POST into messages and status updates.

    Raises PayloadError when the body is not JSON or breaks the documented shape; parts
    that are well-formed but unknown (other fields, other objects) are skipped and noted.
    """
    body = _load(raw)
    if body.get("object") != "whatsapp_business_account":
        return _noted(WebhookBatch(skipped=(f"object {body.get('object')!r}",)))
    messages: list[Inbound] = []
    statuses: list[StatusUpdate] = []
    skipped: list[str] = []
    for entry in _items(body, "entry"):
        for change in _items(entry, "changes"):
            field = change.get("field")
            if field != "messages":
                skipped.append(f"field {field!r}")
                continue
            value = _obj(change.get("value"), "change value")
            messages.extend(_parse_message(m, value) for m in _items(value, "messages"))
            statuses.extend(_parse_status(s) for s in _items(value, "statuses"))
    return _noted(WebhookBatch(tuple(messages), tuple(statuses), tuple(skipped)))


def addresses(inbound: Inbound) -> tuple[Address, ...]:
    """Every address the sender of a WhatsApp message is known by: user id, then phone."""
    found = [inbound.sender]
    wa_id = inbound.meta.get("wa_id")
    if wa_id and Address(CHANNEL, f"+{wa_id}") != inbound.sender:
        found.append(Address(CHANNEL, f"+{wa_id}"))
    return tuple(found)


def _noted(batch: WebhookBatch) -> WebhookBatch:
    for note in batch.skipped:
        logger.info("whatsapp webhook: skipped %s", note)
    return batch


def _load(raw: bytes) -> Obj:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("body is not JSON") from exc
    return _obj(body, "body")


def _obj(value: object, where: str) -> Obj:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} is not an object")
    return value


def _items(container: Obj, key: str) -> list[Obj]:
    value = container.get(key, [])
    if not isinstance(value, list):
        raise PayloadError(f"{key} is not a list")
    for item in value:
        if not isinstance(item, dict):
            raise PayloadError(f"an item of {key} is not an object")
    return value


def _text(container: Obj, key: str) -> str | None:
    """An optional string field; present but of another type is a broken payload."""
    value = container.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PayloadError(f"{key} is not a string")


def _required(container: Obj, key: str) -> str:
    value = _text(container, key)
    if not value:
        raise PayloadError(f"{key} is missing")
    return value


def _timestamp(container: Obj) -> datetime | None:
    value = _text(container, "timestamp")
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise PayloadError("timestamp is not epoch seconds") from exc


def _parse_message(msg: Obj, value: Obj) -> Inbound:
    wamid = _required(msg, "id")
    mtype = _required(msg, "type")
    contact = _contact_for(msg, _items(value, "contacts"))
    user_id = _text(contact, "user_id") or _text(msg, "from_user_id")
    wa_id = _text(contact, "wa_id") or _text(msg, "from")
    if not user_id and not wa_id:
        raise PayloadError("message has no sender")
    received_at = _timestamp(msg)
    if received_at is None:
        raise PayloadError("message has no timestamp")
    kind, text, details = _content(mtype, msg)
    meta = {"type": mtype, **_sender_meta(contact, user_id, wa_id), **details}
    metadata = _obj(value.get("metadata", {}), "metadata")
    meta.update(_present(phone_number_id=_text(metadata, "phone_number_id")))
    meta.update(_present(context_id=_text(_obj(msg.get("context", {}), "context"), "id")))
    sender = Address(CHANNEL, user_id) if user_id else Address(CHANNEL, f"+{wa_id}")
    return Inbound(CHANNEL, wamid, sender, text, received_at, kind, meta)


def _contact_for(msg: Obj, contacts: list[Obj]) -> Obj:
    """The contact entry describing this message's sender (system messages have none)."""
    if len(contacts) == 1:
        return contacts[0]
    for contact in contacts:
        if contact.get("wa_id") == msg.get("from") or contact.get("user_id") == msg.get("from_user_id"):
            return contact
    return {}


def _sender_meta(contact: Obj, user_id: str | None, wa_id: str | None) -> dict[str, str]:
    profile = _obj(contact.get("profile", {}), "profile")
    return _present(
        user_id=user_id,
        wa_id=wa_id,
        profile_name=_text(profile, "name"),
        username=_text(profile, "username"),
    )


def _content(mtype: str, msg: Obj) -> tuple[MessageKind, str, dict[str, str]]:
    """Kind, text and type-specific details of one message; only words count as text."""
    part = msg.get(mtype, {})
    if mtype in READ_TYPES:
        part = _obj(part, mtype)
    elif not isinstance(part, dict):
        part = {}  # `contacts` holds a list; types we do not read may hold anything.
    words = _words(mtype, part)
    if words is not None:
        return words
    details = _media_details(mtype, part)
    errors = _items(msg, "errors")
    if errors:
        details.update(_present(error_code=_text(errors[0], "code")))
    return "media", (_text(part, "caption") or "") if mtype in MEDIA_TYPES else "", details


def _words(mtype: str, part: Obj) -> tuple[MessageKind, str, dict[str, str]] | None:
    """Text, button and interactive replies: what the person chose, as text."""
    if mtype == "text":
        return "text", _required(part, "body"), {}
    if mtype == "button" and _text(part, "text"):
        return "text", _required(part, "text"), _present(button_payload=_text(part, "payload"))
    if mtype == "interactive":
        reply = _interactive_reply(part)
        if reply is not None:
            reply_id = _text(reply, "id")
            # A tapped Approve / Deny button answers like the command it stands for.
            command = button_command(reply_id) if reply_id else None
            return "text", command or _required(reply, "title"), _present(reply_id=reply_id)
    return None


def _media_details(mtype: str, part: Obj) -> dict[str, str]:
    if mtype in MEDIA_TYPES:
        keys: tuple[str, ...] = ("id", "mime_type", "filename")
        found = _present(**{key: _text(part, key) for key in keys})
        if "id" in found:
            found["media_id"] = found.pop("id")
        return found
    if mtype == "reaction":
        return _present(emoji=_text(part, "emoji"), reacted_to=_text(part, "message_id"))
    if mtype == "location":
        keys = ("latitude", "longitude", "name", "address")
        return _present(**{key: _text(part, key) for key in keys})
    return {}


def _interactive_reply(part: Obj) -> Obj | None:
    itype = _text(part, "type")
    if itype in ("button_reply", "list_reply"):
        return _obj(part.get(itype), itype)
    return None


def _parse_status(status: Obj) -> StatusUpdate:
    errors = _items(status, "errors")
    first = errors[0] if errors else {}
    return StatusUpdate(
        provider_id=_required(status, "id"),
        status=_required(status, "status"),
        at=_timestamp(status),
        error_code=_text(first, "code"),
        error_title=_text(first, "title") or _text(first, "message"),
    )


def _present(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}
