"""create_app(settings): the aiohttp application; each long-lived part is one cleanup_ctx."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

from aiohttp import web

from assistant.agent.builtins import GetTime
from assistant.agent.memory_app import memory_ctx
from assistant.agent.model import ModelInfo, ModelOptions, OllamaModel
from assistant.agent.tools import ToolRegistry
from assistant.agent.turn import Agent
from assistant.channels import Channel, api, providers
from assistant.commands import CommandContext, Commands
from assistant.delivery import Sender
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.jobs_app import jobs_ctx, scheduler_ctx
from assistant.keys import (
    CHANNELS,
    CLOCK,
    COMMANDS,
    HANDLED,
    JOBS,
    MEMORY,
    METRICS,
    MODEL,
    MODEL_INFO,
    ROUTER,
    SENDER,
    SETTINGS,
    STARTED_AT,
    STORE,
    TOOLS,
)
from assistant.metrics import Metrics
from assistant.pipeline import Pipeline
from assistant.router import Router
from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.service import sandbox_context
from assistant.settings import Settings
from assistant.signals import Handled
from assistant.store import inbox, sent, views
from assistant.store.models import utcnow
from assistant.store.store import Store
from assistant.swarm_app import after_turn, status_lines, swarm_ctx

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def sandbox_config(settings: Settings) -> SandboxConfig:
    return SandboxConfig(
        skills_dir=settings.skills_dir,
        workspaces_dir=settings.data_dir / "workspaces",
        idle_s=settings.sandbox_idle_s,
        max_containers=settings.sandbox_max_containers,
        base_image=settings.worker_base_image,
        image=settings.worker_image or None,
        worker_dir=settings.worker_dir,
    )


def model_options(settings: Settings) -> ModelOptions:
    return ModelOptions(
        url=settings.ollama_url,
        model=settings.model,
        num_ctx=settings.num_ctx,
        keep_alive=settings.keep_alive,
        connect_timeout_s=settings.model_connect_timeout_s,
        first_token_timeout_s=settings.model_first_token_timeout_s,
        stall_timeout_s=settings.model_stall_timeout_s,
        total_timeout_s=settings.model_total_timeout_s,
    )


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    app[STORE] = await Store.open(app[SETTINGS].database_url)
    yield
    await app[STORE].close()


async def model_ctx(app: web.Application) -> AsyncIterator[None]:
    """Check the model once at start: a missing model stops Hearth; an absent Ollama does not."""
    model = OllamaModel(model_options(app[SETTINGS]))
    try:
        info = await model.info()
    except ModelUnavailable as exc:
        logger.warning("Ollama is not answering at %s (%s); messages wait for it", model.options.url, exc)
        info = ModelInfo(model.name, frozenset({"tools"}))
    except ModelMissing:
        await model.close()
        raise
    if not info.tools:
        logger.warning("model %s does not support tools; answering without them", model.name)
    model.thinking = "thinking" in info.capabilities
    app[MODEL], app[MODEL_INFO] = model, info
    yield
    await model.close()


def _core_commands(app: web.Application) -> None:
    commands = app[COMMANDS]

    async def reset(ctx: CommandContext) -> str:
        await inbox.reset_chat(app[STORE], ctx.chat.id or 0, ctx.now)
        return "Done: I have forgotten our conversation so far."

    async def status(ctx: CommandContext) -> str:
        counts = await views.counts(app[STORE])
        uptime_s = int((ctx.now - app[STARTED_AT]).total_seconds())
        lines = [
            f"Model: {app[MODEL].name}",
            f"Waiting messages: {counts.pending_messages}",
            f"Turns in flight: {app[ROUTER].in_flight}",
            f"Replies to send: {counts.pending_replies}",
            f"Up for: {uptime_s // 3600}h {uptime_s % 3600 // 60}m",
            *status_lines(app),
        ]
        if failure := await sent.last_failure(app[STORE]):
            lines.append(f"Last failed reply: {failure}")
        return "\n".join(lines)

    commands.add("reset", "forget this chat's history", reset)
    commands.add("status", "model, queue and uptime", status)


async def core_ctx(app: web.Application) -> AsyncIterator[None]:
    """The outbox sender, the agent, the pipeline and the router; drained on the way out."""
    settings, store, clock = app[SETTINGS], app[STORE], app[CLOCK]
    channels: dict[str, Channel] = app[CHANNELS]
    sender = Sender(store, channels, clock, app[METRICS], settings.send_retry_s, settings.reply_max_age_s)
    gate = providers.gate(app, sender.wake)
    gate.add_commands(app[COMMANDS])
    agent = Agent(
        app[MEMORY].model,
        app[TOOLS],
        num_ctx=settings.num_ctx,
        max_steps=settings.max_steps,
        use_tools=app[MODEL_INFO].tools,
    )
    pipeline = Pipeline(
        store,
        agent,
        app[COMMANDS],
        timezone=settings.timezone,
        retry_s=settings.model_retry_s,
        clock=clock,
        metrics=app[METRICS],
        handled=app[HANDLED],
        on_reply=sender.wake,
        listeners=[functools.partial(after_turn, store), app[JOBS].outcome],
        memory=app[MEMORY],
        screen=gate,
    )
    app[SENDER] = sender
    app[ROUTER] = Router(store, pipeline.handle, settings.max_concurrent_turns, clock)
    _core_commands(app)
    sending = asyncio.create_task(sender.run(), name="outbox-sender")
    recovered = await app[ROUTER].recover()
    if recovered:
        logger.info("routing again the pending messages of %d chats", recovered)
    yield
    await app[ROUTER].drain(settings.drain_timeout_s)
    sending.cancel()
    await asyncio.gather(sending, return_exceptions=True)


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
    text = request.app[METRICS].render(gauges)
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


def create_app(
    settings: Settings,
    *,
    channels: Sequence[Channel] = (),
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    """The whole of Hearth as one application; nothing starts until the app does."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS], app[CLOCK], app[STARTED_AT] = settings, clock, clock()
    app[METRICS], app[HANDLED] = Metrics(), Handled()
    app[TOOLS], app[COMMANDS] = ToolRegistry([GetTime()]), Commands()
    enabled = providers.Providers.from_settings(settings)
    by_name: dict[str, Channel] = {api.NAME: api.ApiChannel(), **{c.name: c for c in channels}}
    app[CHANNELS] = {**{c.name: c for c in enabled.channels}, **by_name}
    skills = sandbox_context(sandbox_config(settings), app[TOOLS])
    app.cleanup_ctx.extend(
        [
            store_ctx,
            skills,
            model_ctx,
            memory_ctx,
            jobs_ctx,
            swarm_ctx,
            *enabled.contexts,
            core_ctx,
            scheduler_ctx,
        ]
    )
    enabled.setup(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if settings.api_token is not None:
        api.setup(app)
    return app
