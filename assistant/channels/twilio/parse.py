"""Twilio webhooks for SMS and WhatsApp: the signature, inbound messages and status callbacks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from assistant.channels.base import PayloadError, StatusUpdate
from assistant.types import Address, Inbound, MessageKind

CHANNEL = "twilio"
MAX_MEDIA = 10  # Twilio's own cap on attachments per message
_TYPED_MESSAGES = frozenset({"location", "contacts", "sticker", "reaction"})

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "parse_message",
    "parse_status",
    "public_url",
    "sender_address",
    "verify_signature",
]


def public_url(public_base: str, path_qs: str) -> str:
    """The URL Twilio signed: the configured public base, then the request's path and query."""
    return public_base.rstrip("/") + "/" + path_qs.lstrip("/")


def verify_signature(
    auth_token: str,
    url: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    *,
    shared_key_secret: str | None = None,
) -> bool:
    """True when `X-Twilio-Signature` matches `url` and the form `params`.

    The algorithm comes from `X-Twilio-Webhooks-Signature-Settings` (HMAC-SHA1 without it);
    requests carrying that header are checked with `shared_key_secret` when one is given,
    otherwise with the auth token. Pass `params` as received (a multidict works).
    """
    signature = headers.get(SIGNATURE_HEADER)
    settings = headers.get(SIGNATURE_SETTINGS_HEADER)
    secret = shared_key_secret if settings and shared_key_secret else auth_token
    if not secret or not signature:
        return False
    algorithm = get_signature_algorithm(settings)
    try:
        return bool(RequestValidator(secret).validate(url, params, signature, algorithm))
    except (UnicodeError, ValueError, TypeError):
        return False


def sender_address(value: str) -> Address:
    """`whatsapp:+1555…` → whatsapp:+1555…; a bare number → sms:+1555…; raise PayloadError."""
    prefix, sep, ident = value.strip().partition(":")
    if not sep:
        prefix, ident = "sms", value.strip()
    if not ident or not prefix:
        raise PayloadError("From is not an address")
    return Address(prefix.lower(), ident)


def parse_message(form: Mapping[str, str], received_at: datetime) -> Inbound:
    """Read an inbound SMS or WhatsApp message form into an Inbound; raise PayloadError.

    Twilio's form carries no time, so the caller gives the arrival instant.
    """
    sid = _required(form, "MessageSid", "SmsMessageSid")
    sender = sender_address(_required(form, "From"))
    body = form.get("Body", "")
    media = _media(form)
    mtype = _message_type(form, media, body)
    meta = {"type": mtype, "num_media": str(len(media) // 2), **media}
    for field, key in (("To", "to"), ("ProfileName", "profile_name"), ("WaId", "wa_id")):
        if form.get(field):
            meta[key] = form[field]
    for field, key in (("Latitude", "latitude"), ("Longitude", "longitude")):
        if form.get(field):
            meta[key] = form[field]
    kind: MessageKind = "text" if mtype == "text" else "media"
    return Inbound(CHANNEL, sid, sender, body, received_at, kind, meta)


def parse_status(form: Mapping[str, str]) -> StatusUpdate:
    """Read a status callback form (MessageSid, MessageStatus, ErrorCode); raise PayloadError."""
    return StatusUpdate(
        provider_id=_required(form, "MessageSid", "SmsSid"),
        status=_required(form, "MessageStatus", "SmsStatus").lower(),
        error_code=form.get("ErrorCode") or None,
        error_title=form.get("ErrorMessage") or form.get("ChannelStatusMessage") or None,
    )


def _required(form: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise PayloadError(f"{names[0]} is missing")


def _media(form: Mapping[str, str]) -> dict[str, str]:
    """media_url_N and media_type_N for every attachment NumMedia announces."""
    raw = form.get("NumMedia", "0") or "0"
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_MEDIA:
        raise PayloadError("NumMedia is not a count")
    found: dict[str, str] = {}
    for index in range(int(raw)):
        found[f"media_url_{index}"] = form.get(f"MediaUrl{index}", "")
        found[f"media_type_{index}"] = form.get(f"MediaContentType{index}", "")
    return found


def _message_type(form: Mapping[str, str], media: Mapping[str, str], body: str) -> str:
    """The same type names WhatsApp uses, so one set of fixed replies serves both."""
    declared = (form.get("MessageType") or "").lower()
    if declared in _TYPED_MESSAGES:
        return declared
    if media:
        major = media.get("media_type_0", "").partition("/")[0].lower()
        if major in ("image", "audio", "video"):
            return major
        return "contacts" if "vcard" in media.get("media_type_0", "").lower() else "document"
    return "text" if body.strip() else "unsupported"
