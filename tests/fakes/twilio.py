"""A fake Twilio REST API: the Messages resource, with basic auth and form-encoded input."""

from __future__ import annotations

import base64
import itertools
import os
from datetime import UTC, datetime
from email.utils import format_datetime

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
    ) -> None:
        super().__init__(host, port)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)

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
        form = {key: str(value) for key, value in (await request.post()).items()}
        if not form.get("To") or not form.get("From"):
            return self.error_response(Failure(400, 21604, "A 'To' phone number is required."))
        if not form.get("Body") and not form.get("ContentSid"):
            return self.error_response(Failure(400, 21602, "Message body is required."))
        if len(form.get("Body", "")) > BODY_LIMIT:
            return self.error_response(Failure(400, 21617, "The body exceeds 1600 characters."))
        sid = f"SM{next(self._ids):032x}"
        self.sent.append({**form, "sid": sid})
        return web.json_response(self._resource(sid, form), status=201)

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
