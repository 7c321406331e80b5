"""Fetching media from the providers: WhatsApp by media id, Twilio by URL; capped as it streams."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from assistant.media.errors import Gone, TooLarge, Unreachable
from assistant.media.inbound import Reference

logger = logging.getLogger(__name__)

CHUNK_BYTES = 65_536


@dataclass(frozen=True)
class Fetched:
    data: bytes
    declared: str  # the Content-Type the provider gave


@dataclass(frozen=True)
class GraphAccess:
    """What the Cloud API's media endpoints need: where, which version, whose number, the token."""

    api_url: str
    api_version: str
    phone_number_id: str
    token: str


@dataclass(frozen=True)
class TwilioAccess:
    """The account whose credentials Twilio's media URLs want, and the API's own address."""

    account_sid: str
    auth_token: str
    api_url: str


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _size(value: object) -> int | None:
    """Graph's `file_size` is a string in Meta's examples and a number elsewhere."""
    try:
        return int(str(value))
    except ValueError:
        return None


class Downloader:
    """Downloads over one aiohttp session, refusing anything over `max_bytes`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        max_bytes: int,
        timeout_s: float,
        *,
        graph: GraphAccess | None = None,
        twilio: TwilioAccess | None = None,
    ) -> None:
        self._session = session
        self.max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._graph, self._twilio = graph, twilio

    async def get(self, channel: str, ref: Reference) -> Fetched:
        """The file `ref` names, fetched the way its channel serves it."""
        if channel == "whatsapp" and self._graph is not None and ref.media_id:
            return await self.whatsapp(ref.media_id, self._graph)
        if channel == "twilio" and self._twilio is not None and ref.url:
            access = self._twilio
            return await self.twilio(ref.url, access.account_sid, access.auth_token, access.api_url)
        raise Gone(f"no way to fetch media for the {channel} channel")

    async def whatsapp(self, media_id: str, access: GraphAccess) -> Fetched:
        """The media behind a Cloud API media id. Its URL lasts five minutes, so a URL that is
        gone by the time it is fetched is asked for once more. Raises Gone, TooLarge, Unreachable."""
        for attempt in (1, 2):
            url = await self._media_url(media_id, access)
            try:
                return await self.fetch(url, {"Authorization": f"Bearer {access.token}"})
            except Gone:
                if attempt == 2:
                    raise
                logger.info("media URL for %s expired before it was fetched; asking again", media_id)
        raise AssertionError("unreachable")

    async def _media_url(self, media_id: str, access: GraphAccess) -> str:
        base = f"{access.api_url.rstrip('/')}/{access.api_version}/{media_id}"
        params = {"phone_number_id": access.phone_number_id}
        headers = {"Authorization": f"Bearer {access.token}"}
        body = await self._json(base, params, headers)
        size = _size(body.get("file_size"))
        if size is not None and size > self.max_bytes:
            raise TooLarge(f"media {media_id} is {size} bytes")
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise Unreachable(f"Graph named no URL for media {media_id}")
        return url

    async def twilio(self, url: str, account_sid: str, auth_token: str, api_url: str) -> Fetched:
        """A Twilio MediaUrl, following its redirect to the CDN. The credentials go only to the
        Twilio API's own origin (and aiohttp drops them on the hop to another origin)."""
        headers = {}
        if _origin(url) == _origin(api_url):
            headers["Authorization"] = aiohttp.encode_basic_auth(account_sid, auth_token)
        return await self.fetch(url, headers)

    async def _json(self, url: str, params: dict[str, str], headers: dict[str, str]) -> dict[str, object]:
        try:
            async with self._session.get(url, params=params, headers=headers, timeout=self._timeout) as got:
                _check(got)
                body = await got.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Unreachable(f"{url}: {type(exc).__name__}") from exc
        if not isinstance(body, dict):
            raise Unreachable(f"{url} did not answer a JSON object")
        return body

    async def fetch(self, url: str, headers: dict[str, str]) -> Fetched:
        """GET `url` (redirects followed), reading at most `max_bytes`."""
        try:
            async with self._session.get(url, headers=headers, timeout=self._timeout) as got:
                _check(got)
                if got.content_length is not None and got.content_length > self.max_bytes:
                    raise TooLarge(f"{got.content_length} bytes announced")
                data = await self._read(got)
                return Fetched(data, got.headers.get("Content-Type", ""))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unreachable(f"download: {type(exc).__name__}") from exc

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        data = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            data += chunk
            if len(data) > self.max_bytes:
                raise TooLarge(f"more than {self.max_bytes} bytes")
        return bytes(data)


def _check(response: aiohttp.ClientResponse) -> None:
    if response.status in (403, 404, 410):
        raise Gone(f"HTTP {response.status} from {response.url.host}")
    if response.status >= 300:
        raise Unreachable(f"HTTP {response.status} from {response.url.host}")
