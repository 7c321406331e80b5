"""A fake Meta Graph API: the WhatsApp Cloud API messages endpoint, sends and read receipts, and
the media endpoints (retrieve a media URL, download from it, upload)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.base import Failure, FakeServer, serve_forever

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MEDIA_TYPES = ("image", "audio", "document", "video", "sticker")
# The first bytes Meta's upload expects for a declared type (it answers 131053 otherwise).
MAGIC = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG",
    "audio/ogg": b"OggS",
    "application/pdf": b"%PDF",
}


@dataclass
class Media:
    """One file held by the fake: what a person sent, or what Hearth uploaded."""

    data: bytes
    mime: str
    filename: str = ""


# Reply buttons, as Meta documents them: at most 3, titles of 20 characters, ids of 256, body 1024.
BUTTONS_MAX, TITLE_LIMIT, BUTTON_ID_LIMIT, BODY_LIMIT = 3, 20, 256, 1024


def buttons_valid(interactive: Any) -> bool:
    """Whether an `interactive` object of type `button` is one the Cloud API accepts."""
    if not isinstance(interactive, dict) or interactive.get("type") != "button":
        return False
    body = interactive.get("body", {}).get("text", "")
    buttons = interactive.get("action", {}).get("buttons", [])
    replies = [b.get("reply", {}) for b in buttons if b.get("type") == "reply"]
    titles = [str(r.get("title", "")) for r in replies]
    ids = [str(r.get("id", "")) for r in replies]
    return (
        0 < len(body) <= BODY_LIMIT
        and 0 < len(replies) == len(buttons) <= BUTTONS_MAX
        and all(0 < len(t) <= TITLE_LIMIT for t in titles)
        and len(set(titles)) == len(titles)
        and all(0 < len(i) <= BUTTON_ID_LIMIT and i == i.strip() for i in ids)
    )


class GraphFake(FakeServer):
    """Answers `POST /{version}/{phone_number_id}/messages` like the Cloud API.

    `sent` gets every accepted text or template (the request body plus `version` and
    `phone_number_id`), `read` every message id marked read. A wrong bearer token gets
    Graph's 401 (code 190), an over-long text its 400 (code 100).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, token: str = "test-token", drop_aborted: bool = False
    ) -> None:
        super().__init__(host, port, drop_aborted=drop_aborted)
        self.token = token
        self.read: list[str] = []
        self.typing: list[str] = []  # message ids marked read with a typing indicator
        self.media: dict[str, Media] = {}
        self.uploads: list[str] = []  # ids of uploaded media, in order
        self.expired_urls = 0  # how many download URLs to answer 404, as when five minutes passed
        self._ids = itertools.count(1)

    def add_media(self, data: bytes, mime: str) -> str:
        """Hold a file as if a person had sent it; its media id, for a webhook to name."""
        media_id = f"{next(self._ids) + 1_000_000}"
        self.media[media_id] = Media(data, mime)
        return media_id

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_post("/{version}/{phone_number_id}/media", self._upload)
        app.router.add_get("/{version}/{media_id}", self._retrieve)
        app.router.add_get("/whatsapp_business/attachments/", self._download)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _retrieve(self, request: web.Request) -> web.Response:
        """GET /{version}/{media-id}: the short-lived URL and what the file is."""
        if not self._authorized(request):
            return self.error_response(Failure(401, 190, "Invalid OAuth access token."))
        media_id = request.match_info["media_id"]
        found = self.media.get(media_id)
        if found is None:
            return self.error_response(Failure(404, 100, "Unsupported get request."))
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.url}/whatsapp_business/attachments/?mid={media_id}&ext=1&hash=ATx",
                "mime_type": found.mime,
                "sha256": base64.b64encode(hashlib.sha256(found.data).digest()).decode(),
                "file_size": str(len(found.data)),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        """The media URL: the bytes, for a request with the token, until the URL expires."""
        if not self._authorized(request):
            return web.Response(status=401, text="unauthorized")
        if self.expired_urls > 0:
            self.expired_urls -= 1
            return web.Response(status=404, text="URL signature expired")
        found = self.media.get(request.query.get("mid", ""))
        if found is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=found.data, content_type=found.mime.split(";")[0])

    async def _upload(self, request: web.Request) -> web.Response:
        """POST /{phone-number-id}/media, multipart: messaging_product, type and file."""
        failure = await self.failure_or_none()
        if failure is not None:
            return failure
        if not self._authorized(request):
            return self.error_response(Failure(401, 190, "Invalid OAuth access token."))
        form = await request.post()
        upload = form.get("file")
        declared = str(form.get("type", ""))
        if form.get("messaging_product") != "whatsapp" or not isinstance(upload, web.FileField):
            return self.error_response(Failure(400, 100, "Invalid parameter"))
        data = upload.file.read()
        magic = MAGIC.get(declared)
        if magic is not None and not data.startswith(magic):
            return self.error_response(Failure(400, 131053, "Media upload error"))
        media_id = f"{next(self._ids) + 2_000_000}"
        self.media[media_id] = Media(data, declared, upload.filename)
        self.uploads.append(media_id)
        return web.json_response({"id": media_id})

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
        if not self._authorized(request):
            return self.error_response(Failure(401, 190, "Invalid OAuth access token."))
        body: dict[str, Any] = await request.json()
        if body.get("messaging_product") != "whatsapp":
            return self.error_response(Failure(400, 100, "Invalid parameter"))
        if body.get("status") == "read":
            self.read.append(str(body.get("message_id")))
            if body.get("typing_indicator") == {"type": "text"}:
                self.typing.append(str(body.get("message_id")))
            return web.json_response({"success": True})
        await self.gate()
        return self._accept(body, request.match_info)

    def _media_ok(self, body: dict[str, Any]) -> bool:
        """A media message names an uploaded file by id; captions fit; audio takes none."""
        mtype = body.get("type")
        if mtype not in MEDIA_TYPES:
            return True
        part = body.get(str(mtype), {})
        caption = part.get("caption", "")
        if part.get("id") not in self.media or len(caption) > CAPTION_LIMIT:
            return False
        return not (mtype == "audio" and caption)

    def _accept(self, body: dict[str, Any], match: Any) -> web.Response:
        target = body.get("to") or body.get("recipient")
        text = body.get("text", {}).get("body", "") if body.get("type") == "text" else ""
        bad_buttons = body.get("type") == "interactive" and not buttons_valid(body.get("interactive"))
        if not target or len(text) > TEXT_LIMIT or not self._media_ok(body) or bad_buttons:
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
