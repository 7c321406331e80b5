"""create_app(settings): the aiohttp application, its features joined in start order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

from aiohttp import web

from assistant.access.app import access_ctx, gate
from assistant.agent.app import model_ctx
from assistant.agent.builtins import GetTime
from assistant.agent.more import MoreTools
from assistant.agent.offer import Offer
from assistant.agent.tools import ToolRegistry
from assistant.agent.turn import Agent
from assistant.channels import Channel, api
from assistant.channels import app as channel_app
from assistant.channels.space import SPACE
from assistant.commands import CommandContext, Commands
from assistant.delivery import Sender
from assistant.jobs.app import jobs_ctx
from assistant.keys import (
    CHANNELS,
    CLOCK,
    COMMANDS,
    GUARD,
    HANDLED,
    JOBS,
    LEASES,
    MEDIA,
    MEMORY,
    METRICS,
    MODEL_INFO,
    OFFER,
    REPLICA,
    ROUTER,
    SENDER,
    SETTINGS,
    STARTED_AT,
    STORE,
    TOOLS,
)
from assistant.mcp.app import mcp_ctx
from assistant.media import app as media_app
from assistant.memory.app import memory_ctx
from assistant.metrics import Metrics
from assistant.ops import health
from assistant.pipeline import Handled, Pipeline
from assistant.replicas.app import replicas_ctx, scheduler_ctx
from assistant.router import Router
from assistant.sandbox.app import sandbox_ctx
from assistant.search.app import search_ctx
from assistant.settings import Settings
from assistant.store import Store, inbox
from assistant.store.columns import utcnow
from assistant.team.app import record_lead, team_ctx
from assistant.ui import app as dashboard

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    app[STORE] = await Store.open(app[SETTINGS].database_url)
    yield
    await app[STORE].close()


def _reset(app: web.Application) -> None:
    async def reset(ctx: CommandContext) -> str:
        await inbox.reset_chat(app[STORE], ctx.chat.id or 0, ctx.now)
        return "Done: I have forgotten our conversation so far."

    app[COMMANDS].add("reset", "forget this chat's history", reset)


async def core_ctx(app: web.Application) -> AsyncIterator[None]:
    """The outbox sender, the agent, the pipeline and the router; drained on the way out."""
    settings, store, clock = app[SETTINGS], app[STORE], app[CLOCK]
    channels: dict[str, Channel] = app[CHANNELS]
    retry_s, max_age_s = settings.send_retry_s, settings.reply_max_age_s
    sender = Sender(store, channels, clock, app[METRICS], retry_s, max_age_s, replica=app[REPLICA])
    agent = Agent(
        app[MEMORY].model,
        app[TOOLS],
        num_ctx=settings.num_ctx,
        max_steps=settings.max_steps,
        use_tools=app[MODEL_INFO].tools,
        offer=app[OFFER],
        guard=app[GUARD],
    )
    screen = gate(app, sender.wake)
    app[SPACE].tell = screen.tell_owners
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
        listeners=[app[JOBS].outcome],
        recorders=[record_lead],
        memory=app[MEMORY],
        screen=screen,
        media=app[MEDIA].service,
        composer=app[MEDIA].composer,
        read_back=frozenset({api.NAME}),
    )
    app[SENDER] = sender
    app[ROUTER] = Router(
        store,
        pipeline.handle,
        settings.max_concurrent_turns,
        clock,
        batch_max=settings.batch_max_messages,
        leases=app[LEASES],
    )
    _reset(app)
    sending = asyncio.create_task(sender.run(), name="outbox-sender")
    recovered = await app[ROUTER].recover()
    if recovered:
        logger.info("routing again the pending messages of %d chats", recovered)
    yield
    await app[ROUTER].drain(settings.drain_timeout_s)
    sending.cancel()
    await asyncio.gather(sending, return_exceptions=True)


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
    app[OFFER] = Offer(settings.tool_specs_max_chars)
    app[TOOLS].add(MoreTools(app[OFFER], app[TOOLS]))
    providers = channel_app.setup(app, channels)
    media_ctx = media_app.setup(app)
    app.cleanup_ctx.extend(
        [
            store_ctx,
            access_ctx,
            sandbox_ctx,
            search_ctx,
            mcp_ctx,
            model_ctx,
            media_ctx,
            memory_ctx,
            jobs_ctx,
            team_ctx,
            *providers.contexts,
            replicas_ctx,
            core_ctx,
            scheduler_ctx,
        ]
    )
    health.setup(app)
    dashboard.setup(app)
    return app
