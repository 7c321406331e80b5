"""Memory's part of the application: the fact book, its tools and commands, and the counting model."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from assistant.agent.model import Model
from assistant.keys import COMMANDS, MEMORY, MODEL, SETTINGS, STORE, TOOLS
from assistant.memory.factbook import FactBook, OllamaEmbedder
from assistant.memory.service import Limits, Memory
from assistant.memory.tokens import CountingModel, TokenCounter
from assistant.memory.tools import add_commands, fact_tools
from assistant.settings import Settings
from assistant.store import Store


def make_memory(settings: Settings, store: Store, model: Model) -> tuple[Memory, OllamaEmbedder | None]:
    """Memory over `model` (wrapped so that it calibrates token estimates), and its embedder if any;
    the caller closes the embedder."""
    embedder = None
    if settings.embed_model:
        timeout_s = settings.model_first_token_timeout_s
        embedder = OllamaEmbedder(settings.ollama_url, settings.embed_model, timeout_s)
    counter = TokenCounter()
    limits = Limits(settings.num_ctx, settings.memory_max_facts)
    book = FactBook(store, embedder)
    return Memory(store, CountingModel(model, counter), book, counter, limits), embedder


async def memory_ctx(app: web.Application) -> AsyncIterator[None]:
    """Runs after the store and the model are up and before the core builds its agent."""
    memory, embedder = make_memory(app[SETTINGS], app[STORE], app[MODEL])
    for tool in fact_tools(memory.book):
        app[TOOLS].add(tool)
    add_commands(app[COMMANDS], memory.book)
    app[MEMORY] = memory
    yield
    if embedder is not None:
        await embedder.close()
