"""Jobs: every job with its next run and last outcome; pause, resume, cancel, run now."""

from __future__ import annotations

from aiohttp import web

from assistant.jobs.rules import JobNotFound, line, status
from assistant.jobs.triggers import spec_of
from assistant.jobs.when import describe
from assistant.keys import JOBS, STORE
from assistant.ui import queries
from assistant.ui.forms import back, path_id
from assistant.ui.render import done, render

ROUTES = web.RouteTableDef()
ACTIONS = {"pause": "Paused", "resume": "Resumed", "cancel": "Cancelled", "run": "Ran now"}


@ROUTES.get("/ui/jobs")
async def job_list(request: web.Request) -> web.Response:
    cancelled = request.query.get("cancelled") == "1"
    rows = await queries.jobs(request.app[STORE], cancelled)
    return render(
        request,
        "jobs.html",
        title="Jobs",
        rows=rows,
        cancelled=cancelled,
        state_of=status,
        describe=lambda job: describe(spec_of(job)),
    )


@ROUTES.post("/ui/jobs/{id}/{action}")
async def job_action(request: web.Request) -> web.Response:
    job_id, action = path_id(request), request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound(text="No such action.")
    service = request.app[JOBS]
    try:
        if action == "run":
            job = await service.run_now(job_id)
        else:
            job = await service.change(job_id, None, action)  # type: ignore[arg-type]
    except JobNotFound:
        return done(request, f"There is no job {job_id} (it may have been cancelled).", "/ui/jobs")
    return done(request, f"{ACTIONS[action]}: {line(job, job.timezone)}", await back(request, "/ui/jobs"))
