"""Approvals: tool calls waiting for the owner, with exactly what would run; approve or deny; history."""

from __future__ import annotations

from aiohttp import web

from assistant.ui.render import render

ROUTES = web.RouteTableDef()


@ROUTES.get("/ui/approvals")
async def approvals(request: web.Request) -> web.Response:
    return render(request, "approvals.html", title="Approvals", pending=[], history=[])
