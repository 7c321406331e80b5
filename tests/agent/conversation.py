"""Driving many turns through the real pipeline, without HTTP or delivery, for memory tests and bench."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from assistant.agent.builtins import GetTime
from assistant.agent.model import OllamaModel, model_options
from assistant.agent.tools import ToolRegistry
from assistant.agent.turn import Agent
from assistant.commands import Commands
from assistant.memory.app import make_memory
from assistant.memory.service import Memory
from assistant.memory.tools import add_commands, fact_tools
from assistant.metrics import Metrics
from assistant.pipeline import Handled, Pipeline
from assistant.settings import Settings
from assistant.store import Store, inbox, views
from assistant.store.columns import utcnow
from assistant.types import Address, Inbound


@dataclass
class Conversation:
    store: Store
    pipeline: Pipeline
    memory: Memory
    ids: itertools.count[int] = dataclasses.field(default_factory=itertools.count)

    async def say(self, chat: str, text: str) -> str:
        """Store `text` from `chat`, run its turn, and return the reply."""
        now = utcnow()
        inbound = Inbound("api", f"m{next(self.ids)}", Address("api", chat), text, now)
        accepted = (await inbox.accept(self.store, [inbound], now))[0]
        pending = await inbox.pending(self.store, accepted.chat_id)
        assert pending is not None
        await self.pipeline.handle(pending.chat, pending.messages)
        view = await views.message_view(self.store, accepted.message_id)
        assert view is not None
        assert view.replies
        return view.replies[0].text


@asynccontextmanager
async def conversation(settings: Settings, data_dir: Path) -> AsyncIterator[Conversation]:
    """The store, model, memory, agent and pipeline wired the way the app wires them."""
    settings = dataclasses.replace(settings, database_url=f"sqlite:///{data_dir / 'c.db'}")
    store = await Store.open(settings.database_url)
    model = OllamaModel(model_options(settings))
    memory, embedder = make_memory(settings, store, model)
    tools, commands = ToolRegistry([GetTime(), *fact_tools(memory.book)]), Commands()
    add_commands(commands, memory.book)
    agent = Agent(memory.model, tools, num_ctx=settings.num_ctx, max_steps=4, use_tools=True)
    pipeline = Pipeline(
        store,
        agent,
        commands,
        timezone=settings.timezone,
        retry_s=1.0,
        clock=utcnow,
        metrics=Metrics(),
        handled=Handled(),
        on_reply=lambda: None,
        memory=memory,
    )
    try:
        yield Conversation(store, pipeline, memory)
    finally:
        await model.close()
        if embedder is not None:
            await embedder.close()
        await store.close()
