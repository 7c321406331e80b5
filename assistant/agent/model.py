"""The model boundary: Ollama's native /api/chat through the `ollama` package, with explicit timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import ollama

from assistant.errors import HearthError, ModelMissing, ModelUnavailable
from assistant.settings import Settings
from assistant.types import ToolCall


@dataclass(frozen=True)
class ModelReply:
    """What one call to the model produced, with the token counts from its final chunk."""

    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    eval_tokens: int = 0


@dataclass(frozen=True)
class ModelInfo:
    name: str
    capabilities: frozenset[str]

    @property
    def tools(self) -> bool:
        return "tools" in self.capabilities


class Model(Protocol):
    """Something that answers a list of chat messages, optionally calling tools."""

    @property
    def name(self) -> str: ...

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply: ...


@dataclass(frozen=True)
class ModelOptions:
    url: str
    model: str
    num_ctx: int
    keep_alive: str
    connect_timeout_s: float
    first_token_timeout_s: float
    stall_timeout_s: float
    total_timeout_s: float


def _keep_alive(raw: str) -> str | float:
    # Ollama reads a bare number as seconds and a string as a Go duration.
    try:
        return float(raw)
    except ValueError:
        return raw


def _tool_calls(message: ollama.Message) -> list[ToolCall]:
    return [ToolCall(call.function.name, dict(call.function.arguments)) for call in message.tool_calls or []]


class OllamaModel:
    """The real model. Every failure to get an answer raises ModelUnavailable or ModelMissing."""

    def __init__(self, options: ModelOptions) -> None:
        self.options = options
        timeout = httpx.Timeout(options.stall_timeout_s, connect=options.connect_timeout_s)
        self.client = ollama.AsyncClient(host=options.url, timeout=timeout)
        # Whether the model thinks (it is then asked not to); None until Ollama has said.
        self.thinking: bool | None = None

    @property
    def name(self) -> str:
        return self.options.model

    async def close(self) -> None:
        await self.client._client.aclose()

    async def info(self) -> ModelInfo:
        """The model's capabilities; ModelMissing when the server does not have it."""
        try:
            shown = await self.client.show(self.options.model)
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelMissing(self.options.model) from exc
            raise ModelUnavailable(str(exc)) from exc
        except (ConnectionError, httpx.HTTPError) as exc:
            raise ModelUnavailable(str(exc)) from exc
        return ModelInfo(self.options.model, frozenset(shown.capabilities or []))

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply:
        try:
            async with asyncio.timeout(self.options.total_timeout_s):
                if self.thinking is None:
                    self.thinking = "thinking" in (await self.info()).capabilities
                return await self._stream(messages, tools)
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelMissing(self.options.model) from exc
            raise ModelUnavailable(f"ollama answered {exc.status_code}: {exc.error}") from exc
        except (ConnectionError, httpx.HTTPError, TimeoutError) as exc:
            raise ModelUnavailable(type(exc).__name__) from exc

    async def _stream(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply:
        stream: AsyncIterator[ollama.ChatResponse] = await self.client.chat(
            model=self.options.model,
            messages=list(messages),
            tools=list(tools) if tools else None,
            stream=True,
            options={"num_ctx": self.options.num_ctx},
            keep_alive=_keep_alive(self.options.keep_alive),
            think=False if self.thinking else None,
        )
        content: list[str] = []
        calls: list[ToolCall] = []
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.options.first_token_timeout_s) as deadline:
            async for chunk in stream:
                deadline.reschedule(loop.time() + self.options.stall_timeout_s)
                content.append(chunk.message.content or "")
                calls.extend(_tool_calls(chunk.message))
                if chunk.done:
                    return ModelReply(
                        "".join(content),
                        calls,
                        chunk.prompt_eval_count or 0,
                        chunk.eval_count or 0,
                    )
        raise ModelUnavailable("the stream ended before its final chunk")

    async def pull(self) -> AsyncIterator[ollama.ProgressResponse]:
        """Progress of pulling the configured model, as Ollama reports it. ModelUnavailable when
        Ollama does not answer; HearthError when it refuses the pull."""
        try:
            stream = await self.client.pull(self.options.model, stream=True)
            async for progress in stream:
                yield progress
        except ollama.ResponseError as exc:
            raise HearthError(
                f"Ollama at {self.options.url} refused to pull {self.options.model} "
                f"({exc.status_code}: {exc.error}); check HEARTH_MODEL and HEARTH_OLLAMA_URL"
            ) from exc
        except (ConnectionError, httpx.HTTPError) as exc:
            raise ModelUnavailable(str(exc) or type(exc).__name__) from exc


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
