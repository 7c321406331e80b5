"""Memory's part of the application: the fact book, its tools and commands, and the counting model."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from assistant.agent.fact_tools import add_commands, fact_tools
from assistant.agent.factbook import FactBook, OllamaEmbedder
from assistant.agent.memory import Limits, Memory
from assistant.agent.tokens import CountingModel, TokenCounter
from assistant.keys import COMMANDS, MEMORY, MODEL, SETTINGS, STORE, TOOLS


async def memory_ctx(app: web.Application) -> AsyncIterator[None]:
    """Runs after the store and the model are up and before the core builds its agent."""
    settings = app[SETTINGS]
    embedder = None
    if settings.embed_model:
        timeout_s = settings.model_first_token_timeout_s
        embedder = OllamaEmbedder(settings.ollama_url, settings.embed_model, timeout_s)
    book = FactBook(app[STORE], embedder)
    for tool in fact_tools(book):
        app[TOOLS].add(tool)
    add_commands(app[COMMANDS], book)
    counter = TokenCounter()
    limits = Limits(settings.num_ctx, settings.memory_max_facts)
    app[MEMORY] = Memory(app[STORE], CountingModel(app[MODEL], counter), book, counter, limits)
    yield
    if embedder is not None:
        await embedder.close()
