"""Signing in with the dashboard password, and out again."""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from assistant.keys import CLOCK
from assistant.ui.auth import Lockout, PasswordHash, verify
from assistant.ui.guard import COOKIE, HEADERS, PREFIX, SESSION, Guard, set_cookie
from assistant.ui.render import render

ROUTES = web.RouteTableDef()
GUARD = web.AppKey("dashboard_guard", Guard)
PASSWORD = web.AppKey("dashboard_password", PasswordHash)
LOCKOUT = web.AppKey("dashboard_lockout", Lockout)


def next_page(raw: object) -> str:
    """Where to go after signing in: a dashboard page, never another site."""
    if isinstance(raw, str) and raw.startswith(PREFIX) and "//" not in raw and "\\" not in raw:
        return raw
    return PREFIX


@ROUTES.get("/ui/login")
async def login_form(request: web.Request) -> web.Response:
    if PASSWORD not in request.app or request[SESSION].signed_in:
        return web.Response(status=303, headers={"Location": next_page(request.query.get("next"))})
    return render(request, "login.html", title="Sign in", next=next_page(request.query.get("next")), error="")


@ROUTES.post("/ui/login")
async def login(request: web.Request) -> web.Response:
    app = request.app
    if PASSWORD not in app:
        return web.Response(status=303, headers={"Location": PREFIX})
    form = await request.post()
    target, client = next_page(form.get("next")), request.remote or "unknown"
    until = app[LOCKOUT].locked_until(client)
    if until is not None:
        minutes = math.ceil((until - app[CLOCK]()).total_seconds() / 60)
        error = f"Too many wrong passwords. Try again in {minutes} minutes."
        return render(request, "login.html", 429, title="Sign in", next=target, error=error)
    password = form.get("password")
    given = password if isinstance(password, str) else ""
    if not given or not await asyncio.to_thread(verify, given, app[PASSWORD]):
        app[LOCKOUT].failed(client)
        return render(request, "login.html", 401, title="Sign in", next=target, error="Wrong password.")
    app[LOCKOUT].succeeded(client)
    sessions = app[GUARD].sessions
    sessions.end(request[SESSION].id)  # a new id after signing in: a planted cookie is worth nothing
    session = sessions.new(signed_in=True)
    response = web.Response(status=303, headers={"Location": target, **HEADERS})
    set_cookie(request, response, session)
    return response


@ROUTES.post("/ui/logout")
async def logout(request: web.Request) -> web.Response:
    request.app[GUARD].sessions.end(request[SESSION].id)
    response = web.Response(status=303, headers={"Location": "/ui/login"})
    response.del_cookie(COOKIE, path=PREFIX.rstrip("/"))
    return response
