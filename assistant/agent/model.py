"""The model boundary: Ollama's native /api/chat (see `wire`), with explicit timeouts; the `ollama`
package for the rest of Ollama's API (show, list, pull)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import httpx
import ollama

from assistant.agent import wire
from assistant.agent.backends import Backend, Backends, split_urls
from assistant.errors import HearthError, ModelMissing, ModelUnavailable, ServerFailing
from assistant.settings import Settings
from assistant.types import ToolCall

# How long the rest of a body may take after its final chunk (normally it ends with it).
END_OF_BODY_S = 1.0


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
    url: str  # one or more, comma-separated
    model: str
    num_ctx: int
    keep_alive: str
    connect_timeout_s: float
    first_token_timeout_s: float
    stall_timeout_s: float
    total_timeout_s: float
    server_cap: int = 2
    retry_s: float = 5.0


def _keep_alive(raw: str) -> str | float:
    # Ollama reads a bare number as seconds and a string as a Go duration.
    try:
        return float(raw)
    except ValueError:
        return raw


def _tool_calls(message: Mapping[str, Any]) -> list[ToolCall]:
    """The calls in a chunk's message; a call that is not Ollama's shape is the server's fault."""
    calls: list[ToolCall] = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ValueError(f"a tool call without a name: {call!r:.80}")
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError(f"a tool call's arguments are not an object: {call!r:.80}")
        calls.append(ToolCall(function["name"], dict(arguments or {})))
    return calls


class _Answer:
    """A streamed answer as its chunks arrive; `reply` is set by the final one."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.calls: list[ToolCall] = []
        self.reply: ModelReply | None = None

    def add(self, chunk: Mapping[str, Any]) -> None:
        message = chunk.get("message") or {}
        self.content.append(message.get("content") or "")
        self.calls.extend(_tool_calls(message))
        if chunk.get("done"):
            tokens = (chunk.get("prompt_eval_count") or 0, chunk.get("eval_count") or 0)
            self.reply = ModelReply("".join(self.content), self.calls, *tokens)


class OllamaModel:
    """The real model, on one or more Ollama servers. Every failure to get an answer raises
    ModelUnavailable or ModelMissing."""

    def __init__(self, options: ModelOptions) -> None:
        self.options = options
        timeout = httpx.Timeout(options.stall_timeout_s, connect=options.connect_timeout_s)
        self.backends = Backends(
            split_urls(options.url),
            lambda url: ollama.AsyncClient(host=url, timeout=timeout),
            options.server_cap,
            options.retry_s,
        )
        # Whether the model thinks (it is then asked not to); None until Ollama has said.
        self.thinking: bool | None = None
        self._timeout = aiohttp.ClientTimeout(sock_connect=options.connect_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    @property
    def name(self) -> str:
        return self.options.model

    @property
    def client(self) -> ollama.AsyncClient:
        """The first server's client, for what is done on one server (pulling)."""
        return self.backends.servers[0].client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.backends.close()

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session of chat calls, made on first use (it belongs to the running loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=wire.headers())
        return self._session

    async def info(self) -> ModelInfo:
        """The model's capabilities, asked of every server (which also learns which servers lack it):
        ModelMissing when every server answered that it does not have it, ModelUnavailable when none
        that might have it answered."""
        found = await asyncio.gather(*(self._show(b) for b in self.backends.servers), return_exceptions=True)
        for result in found:
            if isinstance(result, ModelInfo):
                return result
            if isinstance(result, BaseException) and not isinstance(result, HearthError):
                raise result  # a fault of ours, not of a server
        failures = [r for r in found if isinstance(r, HearthError)]
        if failures and all(isinstance(r, ModelMissing) for r in failures):
            raise failures[0]
        cause = next((r for r in failures if isinstance(r, ModelUnavailable)), None)
        raise ModelUnavailable(str(cause) if cause else "no answer") from cause

    async def _show(self, backend: Backend) -> ModelInfo:
        try:
            shown = await backend.client.show(self.options.model)
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                backend.lacks.add(self.name)
                self.backends.recovered(backend)
                raise ModelMissing(self.options.model) from exc
            if exc.status_code < 500:  # about the request, not the server
                raise ModelUnavailable(str(exc)) from exc
            self.backends.failed(backend, str(exc.status_code))
            raise ServerFailing(str(exc)) from exc
        except (ConnectionError, httpx.HTTPError) as exc:
            self.backends.failed(backend, type(exc).__name__)
            raise ServerFailing(str(exc) or type(exc).__name__) from exc
        backend.lacks.discard(self.name)
        self.backends.recovered(backend)
        return ModelInfo(self.options.model, frozenset(shown.capabilities or []))

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply:
        """The answer from the first server that gives one, trying healthy servers that have the model,
        least busy first; the last server's error when none does."""
        last: HearthError = ModelUnavailable("no Ollama server")
        for backend in self.backends.order(self.name):
            try:
                async with self.backends.slot(backend):
                    reply = await self._chat_on(backend, messages, tools)
            except ModelMissing as exc:
                backend.lacks.add(self.name)
                last = exc
            except ServerFailing as exc:
                self.backends.failed(backend, str(exc))
                last = exc
            else:
                self.backends.recovered(backend)
                return reply
        raise last

    async def _chat_on(
        self,
        backend: Backend,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None,
    ) -> ModelReply:
        try:
            async with asyncio.timeout(self.options.total_timeout_s):
                if self.thinking is None:
                    self.thinking = "thinking" in (await self._show(backend)).capabilities
                return await self._stream(backend.url, messages, tools)
        except (aiohttp.ClientError, ConnectionError, TimeoutError) as exc:
            raise ServerFailing(str(exc) or type(exc).__name__) from exc

    async def _stream(
        self,
        url: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None,
    ) -> ModelReply:
        request = wire.ChatRequest(
            self.options.model,
            self.options.num_ctx,
            _keep_alive(self.options.keep_alive),
            think=False if self.thinking else None,
        )
        data = wire.body(request, messages, tools)
        answer = _Answer()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.options.first_token_timeout_s) as deadline:
                # Read on to the end of the body after the final chunk: a response read whole leaves
                # its connection open for the next call, one cut short closes it.
                stream = wire.chunks(self.session(), url, data, self.options.model)
                async with contextlib.aclosing(stream):
                    async for chunk in stream:
                        if answer.reply is None:
                            answer.add(chunk)
                            wait_s = END_OF_BODY_S if answer.reply else self.options.stall_timeout_s
                            deadline.reschedule(loop.time() + wait_s)
        except TimeoutError:
            if answer.reply is None:
                raise
        if answer.reply is None:
            raise ServerFailing("the stream ended before its final chunk")
        return answer.reply

    async def pull(self) -> AsyncIterator[ollama.ProgressResponse]:
        """Progress of pulling the configured model, as Ollama reports it. ModelUnavailable when
        Ollama does not answer; HearthError when it refuses the pull."""
        try:
            stream = await self.client.pull(self.options.model, stream=True)
            async for progress in stream:
                yield progress
        except ollama.ResponseError as exc:
            raise HearthError(
                f"Ollama at {self.backends.servers[0].label} refused to pull {self.options.model} "
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
        server_cap=settings.max_concurrent_turns,
        retry_s=settings.model_retry_s,
    )
