"""Sending through the WhatsApp Cloud API (Meta's Graph API) with one aiohttp session."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp

from assistant.channels.base import SendError
from assistant.channels.parts import OutFile
from assistant.channels.split import WHATSAPP_LIMIT
from assistant.channels.whatsapp.parse import button_id
from assistant.types import Address

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
TEMPLATE_PARAMETER_LIMIT = 1000
CAPTION_LIMIT = 1024
# The Cloud API sends images only as JPEG or PNG; other images go as documents. Its document
# types do not include CSV or Markdown, which are plain text.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
AUDIO_TYPES = frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})
UPLOAD_TYPES = {"text/csv": "text/plain", "text/markdown": "text/plain"}

THROUGHPUT_LIMIT = 130429
PAIR_RATE_LIMIT = 131056
REENGAGEMENT = 131047
# Graph's own transient failures (unknown, service, app rate limit, WABA rate limit,
# "something went wrong", "service unavailable") besides the two messaging limits.
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 131000, 131016, THROUGHPUT_LIMIT, PAIR_RATE_LIMIT})

_BSUID = re.compile(r"^[A-Z]{2}\.")


def recipient(to: Address) -> dict[str, str]:
    """The request fields naming `to`: `to` for a phone number, `recipient` for a user id."""
    if _BSUID.match(to.id):
        return {"recipient": to.id}
    return {"to": to.id.removeprefix("+")}


def template_parameter(text: str) -> str:
    """`text` made acceptable as a template body parameter.

    Meta refuses newlines, tabs and long runs of spaces there, and caps the length.
    """
    flat = " ".join(text.split())
    if len(flat) <= TEMPLATE_PARAMETER_LIMIT:
        return flat
    return flat[: TEMPLATE_PARAMETER_LIMIT - 1].rstrip() + "…"


def message_type(file: OutFile) -> str:
    """The Cloud API message type a file goes as: image, audio or document."""
    mime = file.mime.split(";")[0]
    if file.kind == "image" and mime in IMAGE_TYPES:
        return "image"
    if file.kind == "audio" and mime in AUDIO_TYPES:
        return "audio"
    return "document"


def media_object(file: OutFile, media_id: str, caption: str) -> dict[str, Any]:
    """The `image`/`audio`/`document` object of a message sending an uploaded file."""
    kind = message_type(file)
    found: dict[str, Any] = {"id": media_id}
    if caption and kind != "audio":
        found["caption"] = caption
    if kind == "document":
        found["filename"] = file.name
    if kind == "audio" and file.voice:
        found["voice"] = True
    return found


def classify_error(status: int, body: object) -> SendError:
    """Turn a non-2xx Graph response into a SendError that says what to do next."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    raw_code = error.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    reason = _reason(status, error)
    text_code = None if code is None else str(code)
    if code == REENGAGEMENT:
        return SendError(reason, retryable=False, code=text_code, status=status, template_needed=True)
    retryable = code in RETRYABLE_CODES or status == 429 or status >= 500
    return SendError(reason, retryable=retryable, code=text_code, status=status)


def _reason(status: int, error: dict[str, Any]) -> str:
    message = error.get("message")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    parts = [str(p) for p in (message, details) if isinstance(p, str) and p]
    return ": ".join(parts) if parts else f"HTTP {status}"


class WhatsAppSender:
    """Sends texts, templates and read receipts for one business phone number."""

    limit = WHATSAPP_LIMIT

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        token: str,
        phone_number_id: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout_s: float = 10.0,
    ) -> None:
        self._session = session
        self._headers = {"Authorization": f"Bearer {token}"}
        self._base = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}"
        self._url = f"{self._base}/messages"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._upload_timeout = aiohttp.ClientTimeout(total=max(timeout_s, 60.0))

    caption_limit = CAPTION_LIMIT

    def captions(self, file: OutFile) -> bool:
        return message_type(file) != "audio"

    async def send_file(self, to: Address, file: OutFile, caption: str) -> str:
        """Upload `file`, then send it by its media id, with `caption` where it takes one."""
        media_id = await self.upload(file)
        kind = message_type(file)
        return await self._send({**recipient(to), "type": kind, kind: media_object(file, media_id, caption)})

    async def upload(self, file: OutFile) -> str:
        """POST /{phone-number-id}/media: the file's id at Meta (kept there for 30 days)."""
        data = await asyncio.to_thread(file.path.read_bytes)
        mime = file.mime.split(";")[0]
        mime = UPLOAD_TYPES.get(mime, mime)
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime)
        form.add_field("file", data, filename=file.name, content_type=mime)
        answer = await self._request(f"{self._base}/media", self._upload_timeout, data=form)
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise SendError("the upload named no media id", retryable=True, status=200)
        return media_id

    async def send_text(self, to: Address, text: str) -> str:
        """Send one free-form text (at most 4096 characters); return its wamid.

        Raises SendError; `template_needed` when the 24-hour window has closed.
        """
        body = {"preview_url": False, "body": text}
        return await self._send({**recipient(to), "type": "text", "text": body})

    async def send_template(self, to: Address, template_name: str, text: str, language: str = "en_US") -> str:
        """Send the approved template `template_name` with `text` as its one body parameter."""
        parameter = {"type": "text", "text": template_parameter(text)}
        template = {
            "name": template_name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": [parameter]}],
        }
        return await self._send({**recipient(to), "type": "template", "template": template})

    async def send_buttons(self, to: Address, text: str, code: str) -> str:
        """Send `text` with Approve and Deny reply buttons whose ids carry the approval `code`."""
        buttons = [
            {"type": "reply", "reply": {"id": button_id(code, yes), "title": "Approve" if yes else "Deny"}}
            for yes in (True, False)
        ]
        interactive = {"type": "button", "body": {"text": text}, "action": {"buttons": buttons}}
        return await self._send({**recipient(to), "type": "interactive", "interactive": interactive})

    async def mark_read(self, message_id: str, *, typing: bool = False) -> None:
        """Mark the person's message read, optionally showing a typing indicator; SendError."""
        payload: dict[str, Any] = {"status": "read", "message_id": message_id}
        if typing:
            payload["typing_indicator"] = {"type": "text"}
        await self._post(payload)

    async def _send(self, payload: dict[str, Any]) -> str:
        answer = await self._post({"recipient_type": "individual", **payload})
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str) or not wamid:
            # It may have gone out; retrying could send it twice.
            raise SendError("the answer named no message id", retryable=False, status=200)
        return wamid

    async def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = {"messaging_product": "whatsapp", **payload}
        return await self._request(self._url, self._timeout, json=body)

    async def _request(self, url: str, limit: aiohttp.ClientTimeout, **body: Any) -> dict[str, Any]:
        try:
            async with self._session.post(url, headers=self._headers, timeout=limit, **body) as response:
                answer = await _json_or_none(response)
                if response.status >= 300:
                    raise classify_error(response.status, answer)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"network: {type(exc).__name__}", retryable=True) from exc
        return answer if isinstance(answer, dict) else {}


async def _json_or_none(response: aiohttp.ClientResponse) -> object:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None
