"""A scriptable fake Ollama server speaking the real wire protocol, in-process or standalone."""

from __future__ import annotations

import argparse
import asyncio
import collections
import inspect
import json
import signal
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes.ollama_wire import (
    DEFAULT_MODELS,
    EMBED_DIMENSIONS,
    Responder,
    Step,
    chat_chunk,
    echo_responder,
    embed,
    final_fields,
    pull_progress,
    show_body,
    stream_messages,
    tag_entry,
    whole_message,
)

__all__ = ["FakeOllama", "Responder", "Step", "echo_responder", "main"]

NDJSON = "application/x-ndjson"
DOWN_ERROR = "fake ollama is down"


class FakeOllama:
    """An Ollama server on loopback whose `/api/chat` answers come from `script`, then `responder`.

    While `down` is true every endpoint answers 503 `{"error": ...}`, so `ollama.AsyncClient`
    raises `ollama.ResponseError` with `status_code == 503` (streamed or not). For a refused
    connection instead (`ConnectionError`, or `httpx.ConnectError` when streaming), `close()` the
    fake and `start()` it again on the same port later.
    """

    def __init__(
        self,
        *,
        models: dict[str, list[str]] | None = None,
        responder: Responder | None = None,
        delay_s: float = 0.0,
        keep_requests: bool = True,
    ) -> None:
        self.models: dict[str, list[str]] = dict(DEFAULT_MODELS if models is None else models)
        self.responder: Responder = responder or echo_responder
        self.delay_s = delay_s
        self.script: collections.deque[Step] = collections.deque()
        # Every /api/chat body, for a test to look at; a fake serving for long (a benchmark's) keeps
        # none, as holding them all made its collector pause for tens of milliseconds.
        self.chat_requests: list[dict[str, Any]] = []
        self.keep_requests = keep_requests
        self.pulled: list[str] = []
        self.down = False
        self.refused_chats = 0  # /api/chat requests answered 503 while down
        self.in_flight = 0
        self.max_in_flight = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    def push(self, *steps: Step) -> None:
        """Queue answers for the next `/api/chat` requests, first in first out."""
        self.script.extend(steps)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on `host:port` (0 picks a free port); return and remember the base URL."""
        self._runner = web.AppRunner(self._app(), handler_cancellation=True, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{host}:{bound[1]}"
        return self.url

    async def close(self) -> None:
        """Stop listening and drop open connections; safe to call twice."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOllama:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._down_middleware])
        app.router.add_get("/", self._root)
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_post("/api/chat", self._chat)
        app.router.add_post("/api/show", self._show)
        app.router.add_post("/api/pull", self._pull)
        app.router.add_post("/api/embed", self._embed)
        return app

    @web.middleware
    async def _down_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.down:
            self.refused_chats += request.path == "/api/chat"
            return _error(503, DOWN_ERROR)
        response: web.StreamResponse = await handler(request)
        return response

    def _lookup(self, name: str) -> str | None:
        """The known model `name` refers to (`x` means `x:latest`), or None."""
        for candidate in (name, f"{name}:latest"):
            if candidate in self.models:
                return candidate
        return None

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "0.33.0"})

    async def _tags(self, request: web.Request) -> web.Response:
        models = [tag_entry(name, caps) for name, caps in self.models.items()]
        return web.json_response({"models": models})

    async def _show(self, request: web.Request) -> web.Response:
        body = await _body(request)
        name = self._lookup(str(body.get("model") or body.get("name") or ""))
        if name is None:
            return _error(404, f"model '{body.get('model')}' not found")
        return web.json_response(show_body(name, self.models[name]))

    async def _pull(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        name = str(body.get("model") or body.get("name") or "")
        if not name:
            return _error(400, "model is required")
        self.pulled.append(name)
        self.models.setdefault(self._lookup(name) or name, ["completion", "tools"])
        if body.get("stream") is False:
            return web.json_response({"status": "success"})
        return await _stream(request, [_line(line) for line in pull_progress(name)])

    async def _embed(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if self._lookup(str(body.get("model", ""))) is None:
            return _error(404, f"model '{body.get('model')}' not found")
        raw = body.get("input", "")
        inputs = [raw] if isinstance(raw, str) else [str(x) for x in raw]
        dimensions = int(body.get("dimensions") or EMBED_DIMENSIONS)
        return web.json_response(
            {
                "model": body["model"],
                "embeddings": [embed(text, dimensions) for text in inputs],
                "total_duration": 14_143_917,
                "load_duration": 1_019_500,
                "prompt_eval_count": sum(len(text.split()) for text in inputs),
            }
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        if self.keep_requests:
            self.chat_requests.append(body)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer_chat(request, body)
        finally:
            self.in_flight -= 1

    def _refusal(self, body: dict[str, Any]) -> web.Response | None:
        """The error the real server gives before generating anything, if any."""
        model = str(body.get("model", ""))
        name = self._lookup(model)
        if name is None:
            return _error(404, f"model '{model}' not found")
        if body.get("tools") and "tools" not in self.models[name]:
            return _error(400, f"registry.ollama.ai/library/{name} does not support tools")
        if body.get("think") and "thinking" not in self.models[name]:
            return _error(400, f'"{model}" does not support thinking')
        return None

    async def _next_step(self, body: dict[str, Any]) -> Step:
        if self.script:
            return self.script.popleft()
        step = self.responder(body)
        return await step if inspect.isawaitable(step) else step

    async def _answer_chat(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        refusal = self._refusal(body)
        if refusal is not None:
            return refusal
        step = await self._next_step(body)
        await asyncio.sleep(self.delay_s + step.delay_s)
        if step.status is not None:
            return _error(step.status, step.error)
        model = str(body["model"])
        if body.get("stream") is False:
            # Without a stream there is no first chunk to stall after: the stall is plain silence.
            await asyncio.sleep(step.stall_after_s or 0.0)
            return web.json_response(chat_chunk(model, whole_message(step), **final_fields(step)))
        lines = [_line(chat_chunk(model, message)) for message in stream_messages(step)]
        if step.garbled:
            lines.insert(1, b"<html>not json</html>\n")
        if step.failed_midway:
            lines[1:] = [_line({"error": step.error})]
        elif not (step.cut or step.drop):
            lines.append(_line(chat_chunk(model, {}, **final_fields(step))))
        return await _stream(request, lines, stall_after_s=step.stall_after_s, drop=step.drop)


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON request body, or `{}` when it is missing or not an object."""
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode() + b"\n"


async def _stream(
    request: web.Request, lines: list[bytes], *, stall_after_s: float | None = None, drop: bool = False
) -> web.StreamResponse:
    """Write `lines` as NDJSON; with `stall_after_s`, go silent that long after the first line; with
    `drop`, close the connection without ending the chunked body."""
    response = web.StreamResponse(headers={"Content-Type": NDJSON})
    await response.prepare(request)
    for index, line in enumerate(lines):
        await response.write(line)
        if index == 0 and stall_after_s:
            await asyncio.sleep(stall_after_s)
    if drop and request.transport is not None:
        request.transport.close()
        return response
    await response.write_eof()
    return response


def _parse_model(spec: str) -> tuple[str, list[str]]:
    """`NAME` or `NAME=cap,cap` from the command line."""
    name, _, caps = spec.partition("=")
    return name, caps.split(",") if caps else ["completion", "tools"]


async def serve(host: str, port: int, delay_s: float, models: list[str]) -> None:
    """Run a fake until SIGTERM or SIGINT, announcing `listening on URL` once ready."""
    # Run standalone, nobody can read what it was sent.
    fake = FakeOllama(models=dict(map(_parse_model, models)) or None, delay_s=delay_s, keep_requests=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    url = await fake.start(host, port)
    print(f"listening on {url}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> None:
    """Serve from the command line until SIGTERM or SIGINT (see `--help`)."""
    parser = argparse.ArgumentParser(description="Serve a fake Ollama for tests and local runs.")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 only inside a container")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--delay-s", type=float, default=0.0, help="wait before each chat answer")
    parser.add_argument("--model", action="append", default=[], help="NAME or NAME=cap,cap")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.delay_s, args.model))


if __name__ == "__main__":
    main()
