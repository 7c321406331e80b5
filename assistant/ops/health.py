"""How Hearth is doing: /healthz, /readyz and /metrics over HTTP, and the /status command."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from assistant.commands import CommandContext
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.keys import CHANNELS, COMMANDS, METRICS, MODEL, ROUTER, STARTED_AT, STORE
from assistant.mcp.app import status_lines as mcp_lines
from assistant.store import outbox, sent, views
from assistant.team.app import status_lines


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database answers and the model is reachable."""
    checks: dict[str, str] = {}
    try:
        await views.counts(request.app[STORE])
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = type(exc).__name__
    try:
        await request.app[MODEL].info()
        checks["model"] = "ok"
    except (ModelUnavailable, ModelMissing) as exc:
        checks["model"] = type(exc).__name__
    ready = all(value == "ok" for value in checks.values())
    return web.json_response({"ready": ready, **checks}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    counts = await views.counts(request.app[STORE])
    gauges = {
        "hearth_inbox_depth": ("Messages accepted and not yet handled.", counts.pending_messages),
        "hearth_outbox_depth": ("Replies not yet delivered.", counts.pending_replies),
        "hearth_turns_in_flight": ("Turns running now.", request.app[ROUTER].in_flight),
    }
    text = request.app[METRICS].render(gauges) + "\n".join(request.app[MODEL].backends.metric_lines()) + "\n"
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def status(app: web.Application, now: datetime) -> str:
    """The /status answer: model, queues, uptime, teams and the last failed reply."""
    counts = await views.counts(app[STORE])
    channels = app[CHANNELS]
    served = set(channels)
    uptime_s = int((now - app[STARTED_AT]).total_seconds())
    lines = [
        f"Model: {app[MODEL].name}",
        *app[MODEL].backends.status_lines(),
        f"Waiting messages: {counts.pending_messages}",
        f"Turns in flight: {app[ROUTER].in_flight}",
        f"Replies to send: {counts.pending_replies}",
        *[
            f"  of them for {h.channel}, which is not running here: {h.count}"
            for h in await outbox.held(app[STORE], served)
        ],
        f"Up for: {uptime_s // 3600}h {uptime_s % 3600 // 60}m",
        *status_lines(app),
        *mcp_lines(app),
    ]
    if failure := await sent.last_failure(app[STORE]):
        lines.append(f"Last failed reply: {failure}")
    return "\n".join(lines)


def setup(app: web.Application) -> None:
    """The health routes, and /status for the chats."""

    async def status_command(ctx: CommandContext) -> str:
        if ctx.role != "owner":
            return "Only my owner can see that."
        return await status(app, ctx.now)

    app[COMMANDS].add("status", "model, queue and uptime (owner only)", status_command)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
