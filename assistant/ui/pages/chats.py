"""Chats: every chat with its channel, role and last activity; one chat's transcript, facts, summary, jobs."""

from __future__ import annotations

from aiohttp import web

from assistant.keys import SETTINGS, STORE
from assistant.store import jobs, memory
from assistant.ui import queries
from assistant.ui.forms import page_number, path_id
from assistant.ui.render import render

ROUTES = web.RouteTableDef()


def owners(app: web.Application) -> set[str]:
    return {str(a) for a in app[SETTINGS].owners}


@ROUTES.get("/ui/chats")
async def chat_list(request: web.Request) -> web.Response:
    rows = await queries.chats(request.app[STORE], owners(request.app))
    return render(request, "chats.html", title="Chats", rows=rows)


@ROUTES.get("/ui/chats/{id}")
async def chat_page(request: web.Request) -> web.Response:
    store = request.app[STORE]
    row = await queries.chat_row(store, path_id(request), owners(request.app))
    if row is None:
        raise web.HTTPNotFound(text="There is no such chat.")
    chat = row.chat
    assert chat.id is not None
    return render(
        request,
        "chat.html",
        title=f"Chat {chat.address}",
        row=row,
        page=await queries.transcript(store, chat.id, page_number(request)),
        facts=await memory.facts(store, chat.id),
        summary=await memory.summary(store, chat),
        jobs=await jobs.for_chat(store, chat.id),
        media_of=queries.media_of,
    )
