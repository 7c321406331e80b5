"""A chat's facts: adding, forgetting and finding them, with embeddings from Ollama when configured."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import httpx
import ollama

from assistant.agent.tools import ToolError
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.memory.facts import Known, rank
from assistant.store import Store, memory
from assistant.store.tables import FACT_MAX_CHARS, Fact

logger = logging.getLogger(__name__)

MAX_FACTS_PER_CHAT = 500


class Embedder(Protocol):
    """Something that turns texts into vectors; fails with ModelUnavailable or ModelMissing."""

    @property
    def model(self) -> str: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class OllamaEmbedder:
    """Embeddings from Ollama's /api/embed."""

    def __init__(self, url: str, model: str, timeout_s: float) -> None:
        self.model = model
        self.client = ollama.AsyncClient(host=url, timeout=httpx.Timeout(timeout_s))

    async def close(self) -> None:
        await self.client._client.aclose()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            response = await self.client.embed(model=self.model, input=list(texts))
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelMissing(self.model) from exc
            raise ModelUnavailable(f"ollama answered {exc.status_code}: {exc.error}") from exc
        except (ConnectionError, httpx.HTTPError) as exc:
            raise ModelUnavailable(type(exc).__name__) from exc
        return [list(vector) for vector in response.embeddings]


def clean(text: str) -> str:
    """One line of at most FACT_MAX_CHARS characters; ToolError when it is empty or too long."""
    text = " ".join(text.split())
    if not text:
        raise ToolError("the fact is empty")
    if len(text) > FACT_MAX_CHARS:
        raise ToolError(f"a fact may have at most {FACT_MAX_CHARS} characters; say it shorter")
    return text


class FactBook:
    """The facts of every chat; each call touches only the chat it names."""

    def __init__(self, store: Store, embedder: Embedder | None = None) -> None:
        self.store = store
        self.embedder = embedder

    async def add(self, chat_id: int, text: str, now: datetime, effect_key: str | None = None) -> Fact:
        """Keep `text` for the chat (once), with its embedding when one can be had. A fact already
        kept under `effect_key` (the same tool call, replayed) comes back instead."""
        text = clean(text)
        known = await memory.facts(self.store, chat_id)
        if len(known) >= MAX_FACTS_PER_CHAT and text not in {f.text for f in known}:
            raise ToolError(f"this chat already keeps {MAX_FACTS_PER_CHAT} facts; forget some first")
        vectors = await self._vectors([text])
        fact = Fact(chat_id=chat_id, text=text, created_at=now, effect_key=effect_key)
        if vectors is not None:
            fact.vector, fact.vector_model = vectors[0], self._model()
        return await memory.add_fact(self.store, fact)

    async def forget(self, chat_id: int, fact_id: int) -> None:
        if not await memory.delete_fact(self.store, chat_id, fact_id):
            raise ToolError(f"there is no fact {fact_id} in this chat")

    async def all(self, chat_id: int) -> list[Fact]:
        return await memory.facts(self.store, chat_id)

    async def ranked(self, chat_id: int, query: str, facts: list[Fact] | None = None) -> list[Known]:
        """The chat's facts (`facts`, when the caller has just read them), most relevant to `query` first."""
        if facts is None:
            facts = await memory.facts(self.store, chat_id)
        if not facts:
            return []
        query_vector = await self._query_vector(facts, query)
        return rank([Known(f.id or 0, f.text, f.vector) for f in facts], query, query_vector)

    def _model(self) -> str:
        return self.embedder.model if self.embedder else ""

    async def _query_vector(self, facts: list[Fact], query: str) -> list[float] | None:
        """The query's vector, after embedding the facts that lack one (or have another model's)."""
        if self.embedder is None or not query.strip():
            return None
        stale = [f for f in facts if f.vector is None or f.vector_model != self._model()]
        vectors = await self._vectors([query, *(f.text for f in stale)])
        if vectors is None:
            return None
        for fact, vector in zip(stale, vectors[1:], strict=True):
            fact.vector, fact.vector_model = vector, self._model()
        if stale:
            await memory.set_vectors(self.store, {f.id or 0: f.vector or [] for f in stale}, self._model())
        return vectors[0]

    async def _vectors(self, texts: list[str]) -> list[list[float]] | None:
        """Embeddings of `texts`, or None (logged) when there is no embedder or it fails."""
        if self.embedder is None:
            return None
        try:
            vectors = await self.embedder.embed(texts)
        except (ModelUnavailable, ModelMissing) as exc:
            logger.warning("embedding with %s failed (%s); ranking facts by words", self._model(), exc)
            return None
        return vectors if len(vectors) == len(texts) else None
