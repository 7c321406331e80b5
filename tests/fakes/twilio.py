"""A fake Twilio REST API: the Messages resource, with basic auth and form-encoded input."""

from __future__ import annotations

import base64
import itertools
import os
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Self

import aiohttp
from aiohttp import hdrs, web

from tests.fakes.base import Failure, FakeServer, serve_forever

BODY_LIMIT = 1600


class TwilioFake(FakeServer):
    """Answers `POST /2010-04-01/Accounts/{sid}/Messages.json` like Twilio.

    `sent` gets every accepted message form (To, From, Body or ContentSid, ...) plus its
    `sid`. Wrong credentials get Twilio's 401 (code 20003), a long body its 400 (21617).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "test-auth-token",
        drop_aborted: bool = False,
    ) -> None:
        super().__init__(host, port, drop_aborted=drop_aborted)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._ids = itertools.count(1)
        # Inbound media: the API answers with a redirect to a CDN on another origin (its own port
        # here), as Twilio redirects api.twilio.com to mms.twiliocdn.com.
        self.media: dict[str, tuple[bytes, str]] = {}
        self.expired: set[str] = set()
        self.cdn_url = ""
        self.cdn_saw_credentials = False
        self.fetched: list[dict[str, Any]] = []  # what it fetched of the MediaUrls it was sent
        self._cdn: web.AppRunner | None = None

    async def start(self) -> Self:
        await super().start()
        cdn = web.Application()
        cdn.router.add_get("/cdn/{media}", self._cdn_get)
        self._cdn = web.AppRunner(cdn, access_log=None)
        await self._cdn.setup()
        await web.TCPSite(self._cdn, self.host, 0).start()
        self.cdn_url = f"http://{self.host}:{self._cdn.addresses[0][1]}"
        return self

    async def close(self) -> None:
        if self._cdn is not None:
            await self._cdn.cleanup()
            self._cdn = None
        await super().close()

    def add_media(self, data: bytes, mime: str) -> str:
        """Hold a file as if a person had sent it; its MediaUrl, for a webhook to name."""
        media_sid = f"ME{next(self._ids):032x}"
        self.media[media_sid] = (data, mime)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/MM{'0' * 32}/Media/{media_sid}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}", self._media)

    async def _media(self, request: web.Request) -> web.Response:
        """A media resource: Basic auth required, then a redirect to a short-lived CDN URL."""
        if not self._authorized(request):
            return self.error_response(Failure(401, 20003, "Authenticate"))
        media = request.match_info["media"]
        if media not in self.media:
            return self.error_response(Failure(404, 20404, "The requested resource was not found"))
        expires = int(time.time()) + 4 * 3600
        raise web.HTTPFound(f"{self.cdn_url}/cdn/{media}?Expires={expires}&Signature=fake")

    async def _cdn_get(self, request: web.Request) -> web.Response:
        self.cdn_saw_credentials |= hdrs.AUTHORIZATION in request.headers
        media = request.match_info["media"]
        if media in self.expired or media not in self.media:
            return web.Response(status=404, text="<Error><Code>AccessDenied</Code></Error>")
        data, mime = self.media[media]
        return web.Response(body=data, content_type=mime)

    def error_response(self, failure: Failure) -> web.Response:
        code = failure.code if failure.code is not None else failure.status
        body = {
            "code": code,
            "message": failure.message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": failure.status,
        }
        return web.json_response(body, status=failure.status)

    async def _create(self, request: web.Request) -> web.Response:
        failure = await self.failure_or_none()
        if failure is not None:
            return failure
        if not self._authorized(request):
            return self.error_response(Failure(401, 20003, "Authenticate"))
        posted = await request.post()
        form = {key: str(value) for key, value in posted.items() if key != "MediaUrl"}
        media_urls = [str(value) for value in posted.getall("MediaUrl", [])]
        if not form.get("To") or not form.get("From"):
            return self.error_response(Failure(400, 21604, "A 'To' phone number is required."))
        if not form.get("Body") and not form.get("ContentSid") and not media_urls:
            return self.error_response(Failure(400, 21602, "Message body is required."))
        if len(form.get("Body", "")) > BODY_LIMIT:
            return self.error_response(Failure(400, 21617, "The body exceeds 1600 characters."))
        for url in media_urls:
            if not await self._fetch(url):
                return self.error_response(Failure(400, 11200, "HTTP retrieval failure"))
        await self.gate()
        sid = f"SM{next(self._ids):032x}"
        self.sent.append({**form, "sid": sid, **({"MediaUrl": media_urls} if media_urls else {})})
        return web.json_response(self._resource(sid, form), status=201)

    async def _fetch(self, url: str) -> bool:
        """Fetch a MediaUrl as Twilio does before sending: HEAD, then GET; keep what came back."""
        try:
            async with aiohttp.ClientSession() as session:
                async with session.head(url) as head:
                    head_type = head.headers.get("Content-Type", "")
                async with session.get(url) as got:
                    data = await got.read()
                    seen = {"url": url, "status": got.status, "content_type": got.content_type}
                    seen.update(
                        head_type=head_type, data=data, disposition=got.headers.get("Content-Disposition")
                    )
        except aiohttp.ClientError:
            return False
        self.fetched.append(seen)
        return got.status == 200

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        try:
            pair = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        return scheme.lower() == "basic" and (
            pair == f"{self.account_sid}:{self.auth_token}"
            and request.match_info["account"] == self.account_sid
        )

    def _resource(self, sid: str, form: dict[str, str]) -> dict[str, object]:
        now = format_datetime(datetime.now(UTC))
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form["From"],
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{path}/Media.json"},
            "to": form["To"],
            "uri": f"{path}.json",
        }


def main() -> None:
    """Run the fake until interrupted; credentials come from FAKE_TWILIO_ACCOUNT_SID/AUTH_TOKEN."""
    sid = os.environ.get("FAKE_TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    token = os.environ.get("FAKE_TWILIO_AUTH_TOKEN", "test-auth-token")

    def make(host: str, port: int) -> TwilioFake:
        return TwilioFake(host, port, account_sid=sid, auth_token=token)

    serve_forever(make, "Fake Twilio REST API")


if __name__ == "__main__":
    main()
