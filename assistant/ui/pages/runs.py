"""Runs: recent turns, and one turn as a tree of its lead and team members."""

from __future__ import annotations

from aiohttp import web

from assistant.keys import STORE
from assistant.store import runs
from assistant.store.runs import TurnRuns
from assistant.store.tables import Run
from assistant.ui.forms import path_id
from assistant.ui.render import render

ROUTES = web.RouteTableDef()
RECENT = 50


def children(data: TurnRuns) -> tuple[Run | None, dict[int | None, list[Run]]]:
    """The lead's run (when recorded) and every other run under its parent; members the lead started
    hang from None, the top of the tree."""
    lead = next((run for run in data.runs if run.role == runs.LEAD), None)
    below: dict[int | None, list[Run]] = {}
    for run in data.runs:
        if run is not lead:
            parent = None if lead is not None and run.parent_id == lead.id else run.parent_id
            below.setdefault(parent, []).append(run)
    return lead, below


@ROUTES.get("/ui/runs")
async def run_list(request: web.Request) -> web.Response:
    recent = await runs.recent(request.app[STORE], RECENT)
    return render(request, "runs.html", title="Runs", recent=recent)


@ROUTES.get("/ui/runs/{id}")
async def run_tree(request: web.Request) -> web.Response:
    data = await runs.for_turn(request.app[STORE], path_id(request))
    if data is None:
        raise web.HTTPNotFound(text="There is no such turn.")
    lead, below = children(data)
    return render(request, "run.html", title=f"Turn {data.turn.id}", data=data, lead=lead, below=below)
