"""A fake Meta Graph API: the WhatsApp Cloud API messages endpoint, sends and read receipts."""

from __future__ import annotations

import itertools
import os
from typing import Any

from aiohttp import web

from tests.fakes.base import Failure, FakeServer, serve_forever

TEXT_LIMIT = 4096


class GraphFake(FakeServer):
    """Answers `POST /{version}/{phone_number_id}/messages` like the Cloud API.

    `sent` gets every accepted text or template (the request body plus `version` and
    `phone_number_id`), `read` every message id marked read. A wrong bearer token gets
    Graph's 401 (code 190), an over-long text its 400 (code 100).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, token: str = "test-token") -> None:
        super().__init__(host, port)
        self.token = token
        self.read: list[str] = []
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)

    def error_response(self, failure: Failure) -> web.Response:
        error = {
            "message": failure.message,
            "type": "OAuthException",
            "code": failure.code if failure.code is not None else failure.status,
            "error_data": {"messaging_product": "whatsapp", "details": failure.message},
            "fbtrace_id": "AFakeTraceId",
        }
        return web.json_response({"error": error}, status=failure.status)

    async def _messages(self, request: web.Request) -> web.Response:
        failure = await self.failure_or_none()
        if failure is not None:
            return failure
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self.error_response(Failure(401, 190, "Invalid OAuth access token."))
        body: dict[str, Any] = await request.json()
        if body.get("messaging_product") != "whatsapp":
            return self.error_response(Failure(400, 100, "Invalid parameter"))
        if body.get("status") == "read":
            self.read.append(str(body.get("message_id")))
            return web.json_response({"success": True})
        return self._accept(body, request.match_info)

    def _accept(self, body: dict[str, Any], match: Any) -> web.Response:
        target = body.get("to") or body.get("recipient")
        text = body.get("text", {}).get("body", "") if body.get("type") == "text" else ""
        if not target or len(text) > TEXT_LIMIT:
            return self.error_response(Failure(400, 100, "Invalid parameter"))
        wamid = f"wamid.FAKE{next(self._ids):08d}"
        self.sent.append({**body, "id": wamid, **match})
        contact = {"input": target, "user_id" if "recipient" in body else "wa_id": target}
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
        )


def main() -> None:
    """Run the fake until interrupted; the token comes from FAKE_GRAPH_TOKEN."""
    token = os.environ.get("FAKE_GRAPH_TOKEN", "test-token")
    serve_forever(lambda host, port: GraphFake(host, port, token=token), "Fake Graph API")


if __name__ == "__main__":
    main()
