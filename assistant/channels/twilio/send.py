"""Sending SMS and WhatsApp messages through Twilio's REST API with its async client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from assistant.channels.base import SendError
from assistant.channels.parts import OutFile
from assistant.channels.split import TWILIO_LIMIT
from assistant.types import Address

DEFAULT_API_URL = "https://api.twilio.com"
OUTSIDE_WINDOW = 63016
TOO_MANY_REQUESTS = 20429


def classify_error(exc: TwilioRestException | TwilioServiceException) -> SendError:
    """Turn Twilio's refusal into a SendError that says what to do next."""
    status = int(exc.status) if isinstance(exc.status, int) else 0
    code = exc.code if isinstance(exc.code, int) else None
    reason = _reason(exc)
    text_code = None if code is None else str(code)
    if code == OUTSIDE_WINDOW:
        return SendError(reason, retryable=False, code=text_code, status=status, template_needed=True)
    retryable = code == TOO_MANY_REQUESTS or status == 429 or status >= 500
    return SendError(reason, retryable=retryable, code=text_code, status=status)


def _reason(exc: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(exc, TwilioServiceException):
        return str(exc.detail or exc.title)
    return str(exc.msg)


def addresses_for(to: Address, sms_from: str | None, whatsapp_from: str | None) -> tuple[str, str]:
    """The (From, To) pair for a message to `to`; SendError when no number serves its kind."""
    if to.kind == "whatsapp" and whatsapp_from:
        return _whatsapp(whatsapp_from), _whatsapp(to.id)
    if to.kind == "sms" and sms_from:
        return sms_from, to.id
    raise SendError(f"no Twilio number configured for {to.kind}", retryable=False)


def _whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class HeaderAuthHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The package's async client, sending credentials as a ready-made Authorization header.

    aiohttp 3.14 deprecates the `BasicAuth` object the package passes; the header is the
    same bytes on the wire without the warning.
    """

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the package calls it so)
        allow_redirects: bool = False,
    ) -> Any:
        if auth is not None:
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*auth)}
        return await super().request(method, url, params, data, headers, None, timeout, allow_redirects)


class TwilioSender:
    """Sends texts and content templates through one Twilio account.

    Build it with `TwilioSender.open(...)` inside the running event loop (the async HTTP
    client opens its aiohttp session on creation) and `await close()` on shutdown.
    """

    limit = TWILIO_LIMIT
    caption_limit = TWILIO_LIMIT
    # Where Twilio fetches a file from: a public, signed, expiring URL served by Hearth.
    link: Callable[[OutFile], str] | None = None

    def captions(self, file: OutFile) -> bool:
        # Twilio gives WhatsApp documents neither a caption nor a name; the body goes apart.
        return file.kind == "image"

    async def send_file(self, to: Address, file: OutFile, caption: str) -> str:
        """Send `file` as the message's MediaUrl, with `caption` as its body; raise SendError."""
        if self.link is None:
            raise SendError("files cannot be sent without HEARTH_PUBLIC_URL", retryable=False)
        fields: dict[str, Any] = {"media_url": [self.link(file)]}
        if caption:
            fields["body"] = caption
        return await self._create(to, **fields)

    def __init__(
        self,
        client: Client,
        *,
        sms_from: str | None = None,
        whatsapp_from: str | None = None,
        status_callback: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._client = client
        self._sms_from = sms_from
        self._whatsapp_from = whatsapp_from
        self._status_callback = status_callback
        self._timeout_s = timeout_s

    @classmethod
    def open(
        cls,
        *,
        account_sid: str,
        auth_token: str,
        api_url: str = DEFAULT_API_URL,
        sms_from: str | None = None,
        whatsapp_from: str | None = None,
        status_callback: str | None = None,
        timeout_s: float = 10.0,
    ) -> TwilioSender:
        """A sender with its own AsyncTwilioHttpClient, talking to `api_url`."""
        client = Client(account_sid, auth_token, http_client=HeaderAuthHttpClient())
        # The URL setting is the whole address; TWILIO_EDGE/TWILIO_REGION from the
        # environment would otherwise rewrite its host name.
        client.edge = client.region = None
        # Every Messages call resolves against the Api domain's base URL.
        client.api.base_url = api_url.rstrip("/")
        return cls(
            client,
            sms_from=sms_from,
            whatsapp_from=whatsapp_from,
            status_callback=status_callback,
            timeout_s=timeout_s,
        )

    async def send_text(self, to: Address, text: str) -> str:
        """Send one text (at most 1600 characters); return its SM… sid; raise SendError."""
        return await self._create(to, body=text)

    async def send_template(self, to: Address, content_sid: str, text: str) -> str:
        """Send the approved content template `content_sid` with `text` as variable 1."""
        variables = json.dumps({"1": " ".join(text.split())})
        return await self._create(to, content_sid=content_sid, content_variables=variables)

    async def close(self) -> None:
        """Close the HTTP client's session."""
        http_client = self._client.http_client
        if isinstance(http_client, AsyncTwilioHttpClient):
            await http_client.close()

    async def __aenter__(self) -> TwilioSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _create(self, to: Address, **fields: Any) -> str:
        from_, to_ = addresses_for(to, self._sms_from, self._whatsapp_from)
        if self._status_callback:
            fields["status_callback"] = self._status_callback
        try:
            async with asyncio.timeout(self._timeout_s):
                message = await self._client.messages.create_async(to=to_, from_=from_, **fields)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"network: {type(exc).__name__}", retryable=True) from exc
        except ValueError as exc:
            # A 2xx answer that is not JSON: the message may exist, so no retry.
            raise SendError("the answer was not JSON", retryable=False) from exc
        sid = getattr(message, "sid", None)
        if not isinstance(sid, str) or not sid:
            raise SendError("the answer named no message sid", retryable=False)
        return sid
