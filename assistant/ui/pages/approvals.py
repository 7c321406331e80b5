"""Approvals: tool calls waiting for the owner, with exactly what would run; approve or deny; history.

Answering here is answering `/yes CODE` or `/no CODE` in the chat: the same service decides (the
call runs once, keyed by the held-back call), with the role the chat's person has now, and the
person is sent the same answer a command in their chat would have brought them.
"""

from __future__ import annotations

import json

from aiohttp import web

from assistant.access.approvals import Approvals, shown
from assistant.access.roles import role_of_chat
from assistant.keys import APPROVALS, CLOCK, SENDER, SETTINGS, STORE
from assistant.store import approvals as stored
from assistant.store.tables import Approval, Reply
from assistant.ui import queries
from assistant.ui.forms import path_id
from assistant.ui.render import done, render

ROUTES = web.RouteTableDef()
HISTORY = 50
ANSWERS = {"yes": True, "no": False}
BY = "dashboard"
NO_ACCESS = "{who} no longer has access, so {tool} did not run; the request was denied."


def arguments(row: Approval) -> str:
    """The call's arguments exactly as they would be passed, one per line for reading."""
    return json.dumps(row.arguments, ensure_ascii=False, sort_keys=True, indent=2)


@ROUTES.get("/ui/approvals")
async def approvals(request: web.Request) -> web.Response:
    app = request.app
    service = app[APPROVALS]
    await service.expire()  # a request past its time shows as expired, never as answerable
    pending = await service.pending()
    history = [row for row in await service.listing(HISTORY) if row.status != stored.PENDING]
    chats = await queries.chats_by_id(app[STORE], {row.chat_id for row in pending + history})
    return render(
        request,
        "approvals.html",
        title="Approvals",
        pending=pending,
        history=history,
        chats=chats,
        arguments=arguments,
        shown=lambda row: shown(row.tool, row.arguments),
    )


async def _answer(app: web.Application, service: Approvals, row: Approval, yes: bool) -> str:
    """Answer as the chat's person would, and queue that answer for them; the text."""
    chat = (await queries.chats_by_id(app[STORE], {row.chat_id}))[row.chat_id]
    owners = frozenset(str(a) for a in app[SETTINGS].owners)
    role = await role_of_chat(app[STORE], chat, owners)
    if role is None:
        # The person was revoked since they asked: nothing may run for them.
        await service.answer(row.code, False, BY, row.chat_id, "member")
        return NO_ACCESS.format(who=chat.address, tool=row.tool)
    answer = await service.answer(row.code, yes, BY, row.chat_id, role)
    reply = Reply(chat_id=row.chat_id, text=answer.text, created_at=app[CLOCK]())
    await app[STORE].write(lambda s: s.add(reply))
    app[SENDER].wake()
    return answer.text


@ROUTES.post("/ui/approvals/{id}/{answer}")
async def answer(request: web.Request) -> web.Response:
    approval_id, word = path_id(request), request.match_info["answer"]
    if word not in ANSWERS:
        raise web.HTTPNotFound(text="No such answer.")
    app = request.app
    row = await app[STORE].read(lambda s: s.get(Approval, approval_id))
    if row is None:
        return done(request, f"There is no approval request {approval_id}.", "/ui/approvals")
    if row.status != stored.PENDING:
        # Already answered (perhaps in the chat): the person is not told a second time.
        return done(request, f"Request {row.code} was already {row.status}.", "/ui/approvals")
    text = await _answer(app, app[APPROVALS], row, ANSWERS[word])
    return done(request, text, "/ui/approvals")
