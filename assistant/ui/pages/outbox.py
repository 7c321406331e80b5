"""Outbox: replies waiting, being retried or failed, with their reasons; retry or drop."""

from __future__ import annotations

from aiohttp import web

from assistant.keys import SENDER, STORE
from assistant.ui import queries
from assistant.ui.forms import path_id
from assistant.ui.render import done, render

ROUTES = web.RouteTableDef()


@ROUTES.get("/ui/outbox")
async def outbox(request: web.Request) -> web.Response:
    rows = await queries.outbox(request.app[STORE])
    return render(request, "outbox.html", title="Outbox", rows=rows)


@ROUTES.post("/ui/outbox/{id}/{action}")
async def reply_action(request: web.Request) -> web.Response:
    reply_id, action = path_id(request), request.match_info["action"]
    if action not in ("retry", "drop"):
        raise web.HTTPNotFound(text="No such action.")
    reply = await queries.change_reply(request.app[STORE], reply_id, action)
    if reply is None:
        return done(request, f"Reply {reply_id} is no longer waiting to be sent.", "/ui/outbox")
    if action == "retry":
        request.app[SENDER].wake()
        return done(request, f"Reply {reply_id} will be sent again now.", "/ui/outbox")
    return done(request, f"Reply {reply_id} was dropped; it will not be sent.", "/ui/outbox")
