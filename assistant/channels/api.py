"""The HTTP API channel: bearer-token protected JSON endpoints for scripts and other programs."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from assistant.channels import space
from assistant.keys import CLOCK, HANDLED, METRICS, ROUTER, SETTINGS, STORE
from assistant.store import inbox, views
from assistant.types import Address, Inbound, Outbound

logger = logging.getLogger(__name__)

NAME = "api"
MAX_CHAT_CHARS = 200
MAX_TEXT_CHARS = 32_000
MAX_WAIT_S = 30.0
PAGE_ENTRIES, MAX_PAGE_ENTRIES = 50, 200
REPLY_PREFIX = "reply-"
MAX_ID_DIGITS = 18  # ids are 64-bit integers; a longer number names nothing
BAD_BEFORE = "'before' must be the id of a message or reply in this chat, such as 17 or reply-4"


class ApiChannel:
    """Replies to API chats are read back with GET; delivering one only marks it sent."""

    name = NAME

    async def send(self, reply: Outbound) -> str | None:
        return None


_HTTP: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    404: web.HTTPNotFound,
    503: web.HTTPServiceUnavailable,
}


def _error(status: int, message: str, **extra: str) -> web.HTTPException:
    body = json.dumps({"error": message, **extra})
    return _HTTP[status](text=body, content_type="application/json")


@web.middleware
async def bearer_auth(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every /v1/ path needs `Authorization: Bearer <HEARTH_API_TOKEN>`."""
    if request.path.startswith("/v1/"):
        token = request.app[SETTINGS].api_token
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        expected = token.value.encode() if token else b""
        if (
            scheme.lower() != "bearer"
            or not expected
            or not hmac.compare_digest(given.strip().encode(), expected)
        ):
            raise _error(401, "missing or wrong bearer token")
    return await handler(request)


def _text_field(data: dict[str, Any], name: str, limit: int, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _error(400, f"{name!r} must be a non-empty string", field=name)
    if len(value) > limit:
        raise _error(400, f"{name!r} is longer than {limit} characters", field=name)
    return value


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        logger.info("malformed JSON posted to %s", request.path)
        raise _error(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _error(400, "the body must be a JSON object")
    return data


async def post_message(request: web.Request) -> web.Response:
    """Accept a message durably, then answer 202 with its id; the same client id is one message.
    503, with nothing stored, while the data volume is almost full."""
    if await space.refused(request.app):
        raise _error(503, space.REFUSED)
    data = await _json_body(request)
    chat = _text_field(data, "chat", MAX_CHAT_CHARS) or ""
    text = _text_field(data, "text", MAX_TEXT_CHARS) or ""
    client_id = _text_field(data, "id", MAX_CHAT_CHARS, required=False)
    app = request.app
    now = app[CLOCK]()
    provider_id = f"{chat}/{client_id or '~' + uuid.uuid4().hex}"
    inbound = Inbound(NAME, provider_id, Address(NAME, chat), text, now)
    [accepted] = await inbox.accept(app[STORE], [inbound], now)
    if accepted.new:
        app[METRICS].accepted.inc()
        app[ROUTER].notify(accepted.chat_id)
    return web.json_response({"id": str(accepted.message_id)}, status=202)


def _message_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise _error(404, "no such message") from None


def _wait_s(request: web.Request) -> float:
    """The `wait` query parameter, held between 0 and MAX_WAIT_S; 400 unless it is a number."""
    try:
        wait_s = float(request.query.get("wait", "0"))
    except ValueError:
        wait_s = math.nan
    if math.isnan(wait_s):
        raise _error(400, "'wait' must be a number of seconds", field="wait")
    return min(max(wait_s, 0.0), MAX_WAIT_S)


async def get_message(request: web.Request) -> web.Response:
    """The message's status and replies; `?wait=S` waits up to S seconds for it to be handled."""
    message_id, wait_s = _message_id(request), _wait_s(request)
    store = request.app[STORE]
    with request.app[HANDLED].watch(message_id) as handled:
        view = await views.message_view(store, message_id)
        if view is not None and view.status == "accepted" and wait_s > 0:
            # `timeout` rather than `wait_for`: the turn's close wakes this task itself, not a
            # helper that wakes it a loop round later.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await handled
            view = await views.message_view(store, message_id)
    if view is None or view.channel != NAME:
        raise _error(404, "no such message")
    replies = [
        {"text": r.text, "status": r.status, "created_at": r.created_at.isoformat()} for r in view.replies
    ]
    body = {"id": str(message_id), "status": view.status, "replies": replies}
    return web.json_response(body)


def _whole(raw: str) -> int | None:
    """`raw` as a number when it is plain ASCII digits (no sign, no space) of a sane length."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_ID_DIGITS:
        return None
    return int(raw)


def _limit(request: web.Request) -> int:
    limit = _whole(request.query.get("limit", str(PAGE_ENTRIES)))
    if limit is None or not 1 <= limit <= MAX_PAGE_ENTRIES:
        raise _error(400, f"'limit' must be a whole number from 1 to {MAX_PAGE_ENTRIES}", field="limit")
    return limit


def _entry_id(entry: views.Entry) -> str:
    return str(entry.id) if entry.role == "user" else f"{REPLY_PREFIX}{entry.id}"


def _mark(raw: str) -> views.Mark | None:
    """The transcript entry an id names ("17" a message, "reply-4" a reply), or None."""
    number = _whole(raw.removeprefix(REPLY_PREFIX))
    if number is None:
        return None
    return views.Mark("assistant" if raw.startswith(REPLY_PREFIX) else "user", number)


async def get_transcript(request: web.Request) -> web.Response:
    """A page of the chat's messages and replies in order: the newest `limit` (50 unless told, at most
    200) before the entry `before` names, or the newest of all; `older` is what to pass as `before`
    for the page before this one (null on the first page of the chat)."""
    name, limit, raw_before = request.match_info["chat"], _limit(request), request.query.get("before")
    before = None if raw_before is None else _mark(raw_before)
    if raw_before is not None and before is None:
        raise _error(400, BAD_BEFORE, field="before")
    chat = await views.find_chat(request.app[STORE], NAME, str(Address(NAME, name)))
    if chat is None or chat.id is None:
        raise _error(404, "no such chat")
    found = await views.page(request.app[STORE], chat.id, limit, before)
    if found is None:
        raise _error(400, BAD_BEFORE, field="before")
    messages = [
        {
            "id": _entry_id(e),
            "role": e.role,
            "text": e.text,
            "status": e.status,
            "created_at": e.created_at.isoformat(),
        }
        for e in found.entries
    ]
    older = _entry_id(found.entries[0]) if found.more and found.entries else None
    return web.json_response({"chat": name, "messages": messages, "older": older})


async def _stop_waiting(app: web.Application) -> None:
    # A request waiting for its answer would otherwise hold the shutdown for as long as it waits,
    # before the running turns even get their drain time.
    app[HANDLED].release()


def setup(app: web.Application) -> None:
    app.middlewares.append(bearer_auth)
    app.on_shutdown.append(_stop_waiting)
    app.router.add_post("/v1/messages", post_message)
    app.router.add_get("/v1/messages/{id}", get_message)
    app.router.add_get("/v1/chats/{chat}/messages", get_transcript)
