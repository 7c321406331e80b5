"""The scheduler in the application: its tools and commands, made before the core starts (its timers
start after the core, see assistant.replicas.app)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from assistant.access.roles import role_of_chat
from assistant.commands import CommandContext, Commands
from assistant.jobs import tools
from assistant.jobs.rules import JobNotFound, line
from assistant.jobs.service import JobService
from assistant.keys import CLOCK, COMMANDS, JOBS, POLICY, ROUTER, SENDER, SETTINGS, STORE, TOOLS
from assistant.store import inbox, jobs

logger = logging.getLogger(__name__)

NO_JOBS = "No reminders or tasks here. Ask me to remind you of something, or to do something on a schedule."


def add_commands(commands: Commands, service: JobService, default_timezone: str) -> None:
    """/jobs and /cancel ID for the chat's own jobs."""

    async def list_jobs(ctx: CommandContext) -> str:
        rows = await jobs.for_chat(service.store, ctx.chat.id or 0)
        timezone = ctx.chat.timezone or default_timezone
        return "\n".join(line(job, timezone) for job in rows) if rows else NO_JOBS

    async def cancel(ctx: CommandContext) -> str:
        raw = ctx.args.strip().lstrip("#")
        if not raw.isdigit():
            return "Send /cancel followed by a job number from /jobs, like /cancel 3."
        try:
            job = await service.change(int(raw), ctx.chat.id or 0, "cancel")
        except JobNotFound:
            return f"There is no job {raw} in this chat; /jobs lists them."
        return f"Cancelled: {line(job, ctx.chat.timezone or default_timezone)}"

    commands.add("jobs", "this chat's reminders and tasks", list_jobs)
    commands.add("cancel", "cancel a job: /cancel ID", cancel)


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """Make the job service and register its tools and commands; runs before the core."""
    settings, store = app[SETTINGS], app[STORE]
    owners = frozenset(str(owner) for owner in settings.owners)

    async def may_fire(chat_id: int) -> bool:
        """A job acts for its chat's role, checked again at fire time: a chat without access has none."""
        return await role_of_chat(store, await inbox.get_chat(store, chat_id), owners) is not None

    service = JobService(
        store,
        clock=app[CLOCK],
        notify=lambda chat_id: app[ROUTER].notify(chat_id),
        wake=lambda: app[SENDER].wake(),
        may_fire=may_fire,
    )
    app[JOBS] = service
    for tool in tools.tools(service, settings.job_grace_s, app[POLICY].role):
        app[TOOLS].add(tool)
    add_commands(app[COMMANDS], service, str(settings.timezone))
    yield
