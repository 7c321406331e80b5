"""Teams in the application: roles, models per role, the lead's delegate tool, notices and /status."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlmodel import Session

from assistant.agent.model import Model, OllamaModel
from assistant.agent.tools import ToolRegistry
from assistant.keys import CLOCK, GUARD, MODEL, SENDER, SETTINGS, STORE, TOOLS
from assistant.pipeline import TurnEnd
from assistant.settings import Settings
from assistant.store import runs
from assistant.store.tables import Reply
from assistant.team import tools as delegate
from assistant.team.roles import load_roles
from assistant.team.service import Limits, Swarm

logger = logging.getLogger(__name__)

SWARM = web.AppKey("swarm", Swarm)


class OllamaModels:
    """One OllamaModel per model name, sharing the main model's settings; the main model is reused."""

    def __init__(self, main: OllamaModel) -> None:
        self.main = main
        self._models: dict[str, OllamaModel] = {}

    async def get(self, name: str | None) -> Model:
        """The model `name`; its capabilities are asked once (ModelMissing when the server lacks it)."""
        if name is None or name == self.main.name:
            return self.main
        if name not in self._models:
            model = OllamaModel(dataclasses.replace(self.main.options, model=name))
            try:
                info = await model.info()
            except Exception:
                await model.close()
                raise
            model.thinking = "thinking" in info.capabilities
            self._models[name] = model
        return self._models[name]

    async def close(self) -> None:
        for model in self._models.values():
            await model.close()


def limits(settings: Settings) -> Limits:
    return Limits(
        concurrency=settings.swarm_concurrency,
        max_tasks=settings.swarm_max_tasks,
        max_depth=settings.swarm_max_depth,
        budget_s=settings.swarm_budget_s,
        max_tokens=settings.swarm_max_tokens,
        progress_after_s=settings.progress_after_s,
        num_ctx=settings.num_ctx,
    )


def missing_tools(swarm: Swarm, tools: ToolRegistry) -> list[str]:
    """One warning per role tool that is not registered: the role runs without it."""
    return [
        f"role {role.name}: tool {name!r} is not available; the role runs without it"
        for role in swarm.roles.values()
        for name in role.tools
        if name != delegate.NAME and name not in tools
    ]


async def team_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the roles, register the lead's `delegate` tool; close the role models on the way out."""
    settings, store = app[SETTINGS], app[STORE]
    book = load_roles(settings.data_dir)
    for error in book.errors:
        logger.error("role not loaded: %s", error)

    async def notify(chat_id: int, text: str) -> None:
        notice = Reply(chat_id=chat_id, text=text, meta={"kind": "notice"}, created_at=app[CLOCK]())
        await store.write(lambda s: s.add(notice))
        app[SENDER].wake()

    models = OllamaModels(app[MODEL])
    swarm = Swarm(
        store, app[TOOLS], book.roles, models, limits(settings), notify, delegate.nested, app[GUARD]
    )
    for warning in missing_tools(swarm, app[TOOLS]):
        logger.warning(warning)
    if settings.swarm_max_depth >= 1 and book.roles:
        app[TOOLS].add(delegate.Delegate(swarm))
    app[SWARM] = swarm
    yield
    await models.close()


def status_lines(app: web.Application) -> list[str]:
    """The /status line about teams at work."""
    teams = list(app[SWARM].teams.values()) if SWARM in app else []
    if not teams:
        return ["Teams at work: none"]
    helpers = sum(t.size for t in teams)
    running = sum(t.running for t in teams)
    return [f"Teams at work: {len(teams)} ({running} of {helpers} helpers running)"]


def record_lead(session: Session, end: TurnEnd) -> None:
    """In the transaction that writes an agent turn: the lead's run, with its members attached."""
    if end.turn.kind != "agent":
        return
    result = end.result
    calls = [{"name": c.name, "arguments": dict(c.arguments)} for c in result.tool_calls] if result else []
    # Members are made by tool calls: a turn that answered without one has none. A failed turn may
    # have made some before it failed.
    runs.close_turn(session, end.turn, calls, members=result is None or bool(calls))
