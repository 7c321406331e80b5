"""Floor benchmark: what the router benchmark's client pattern costs with nothing of Hearth's in it.

A bare aiohttp server takes `POST /v1/messages`, answers 202, and calls the fake Ollama (in its own
process, answering at once) with the chat's history so far (at most HISTORY entries, as a turn sends);
`GET /v1/messages/{id}?wait=` returns when that call has ended. Nothing is stored, nothing is checked.
The call goes through `ollama.AsyncClient.chat`, and again through a plain aiohttp POST of the same
body, so the figures say how much of the router benchmark's latency any server using the client
library must spend. Same latency as there: from the 202 to the answer being ready.

    python -m tests.bench.floor [--messages 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import aiohttp
import ollama
from aiohttp import web

from tests.bench.router import one_chat, percentile, start_fake_ollama
from tests.fakes.ollama_wire import DEFAULT_MODELS
from tests.process import free_port

HISTORY = 200
MODEL = next(iter(DEFAULT_MODELS))
Message = dict[str, Any]


class Floor:
    """The server: one chat's history in memory, one model call per message."""

    def __init__(self, ollama_url: str, client: str) -> None:
        self.ollama_url = ollama_url
        self.client = client
        self.history: list[Message] = []
        self.answered: dict[int, asyncio.Future[None]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def library_call(self, messages: list[Message]) -> str:
        stream = await self.library.chat(model=MODEL, messages=messages, stream=True)
        return "".join([chunk.message.content or "" async for chunk in stream])

    async def plain_call(self, messages: list[Message]) -> str:
        body = {"model": MODEL, "messages": messages, "stream": True}
        async with self.http.post(f"{self.ollama_url}/api/chat", json=body) as response:
            lines = [line async for line in response.content if line.strip()]
        return "".join(json.loads(line)["message"]["content"] for line in lines)

    async def turn(self, message_id: int, text: str) -> None:
        asked = {"role": "user", "content": text}
        messages = [{"role": "system", "content": "You are Hearth."}, *self.history[-HISTORY:], asked]
        call = self.library_call if self.client == "ollama" else self.plain_call
        answer = await call(messages)
        self.history += [asked, {"role": "assistant", "content": answer}]
        self.answered[message_id].set_result(None)

    async def post(self, request: web.Request) -> web.Response:
        body = await request.json()
        message_id = len(self.answered) + 1
        self.answered[message_id] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self.turn(message_id, body["text"]))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.json_response({"id": str(message_id)}, status=202)

    async def get(self, request: web.Request) -> web.Response:
        await asyncio.wait_for(self.answered[int(request.match_info["id"])], 10)
        return web.json_response({"status": "handled"})

    async def serve(self, port: int) -> None:
        self.library = ollama.AsyncClient(host=self.ollama_url)
        self.http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/v1/messages", self.post)
        app.router.add_get("/v1/messages/{id}", self.get)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)
        await asyncio.Event().wait()


async def measure(ollama_url: str, client: str, messages: int) -> tuple[float, float]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.floor",
        "--serve",
        str(port),
        ollama_url,
        client,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    await server.stdout.readline()
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await one_chat(http, url, "warm-up", 5)
            latencies = await one_chat(http, url, "chat", messages)
    finally:
        server.terminate()
        await server.wait()
    return percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000


async def bench(messages: int) -> dict[str, float]:
    fake, fake_url = await start_fake_ollama()
    figures: dict[str, float] = {"messages": messages}
    try:
        for client in ("ollama", "aiohttp"):
            p50, p99 = await measure(fake_url, client, messages)
            figures[f"{client}_p50_ms"], figures[f"{client}_p99_ms"] = round(p50, 2), round(p99, 2)
    finally:
        fake.terminate()
        await fake.wait()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "OLLAMA_URL", "CLIENT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        port, ollama_url, client = args.serve
        asyncio.run(Floor(ollama_url, client).serve(int(port)))
        return
    figures = asyncio.run(bench(args.messages))
    for client in ("ollama", "aiohttp"):
        p50, p99 = figures[f"{client}_p50_ms"], figures[f"{client}_p99_ms"]
        print(f"model call through {client}: accepted -> answer ready p50 {p50} ms, p99 {p99} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
