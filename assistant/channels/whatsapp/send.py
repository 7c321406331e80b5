"""Sending through the WhatsApp Cloud API (Meta's Graph API) with one aiohttp session."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from assistant.channels.base import SendError
from assistant.channels.split import WHATSAPP_LIMIT
from assistant.types import Address

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v26.0"
TEMPLATE_PARAMETER_LIMIT = 1000

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
        self._url = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

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
        try:
            async with self._session.post(
                self._url, json=body, headers=self._headers, timeout=self._timeout
            ) as response:
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
