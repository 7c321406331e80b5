"""A real Hearth (and a fake Ollama) served on loopback from a thread, for a browser to talk to."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web

from assistant.app import create_app
from assistant.settings import Settings
from tests.fakes.ollama import FakeOllama

T = TypeVar("T")
START_TIMEOUT_S = 20.0
# (path, what it shows) of every screenshot taken, for the summary at the end of the run.
TAKEN: list[tuple[str, str]] = []


class LiveHearth:
    """`create_app(settings)` behind an aiohttp TCPSite on a free loopback port, in its own event loop, so
    a synchronous browser driver can use it while the test seeds data with `run`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-hearth", daemon=True)
        self.runner: web.AppRunner | None = None
        self.fake = FakeOllama()
        self.url = ""

    def run(self, work: Coroutine[Any, Any, T], timeout_s: float = 20.0) -> T:
        """Run `work` in the server's loop and return its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self.loop)
        return future.result(timeout_s)

    @property
    def app(self) -> web.Application:
        assert self.runner is not None
        return self.runner.app

    async def _start(self) -> None:
        await self.fake.start()
        import dataclasses

        app = create_app(dataclasses.replace(self.settings, ollama_url=self.fake.url))
        self.runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await self.fake.close()

    def __enter__(self) -> LiveHearth:
        self.thread.start()
        self.run(self._start(), START_TIMEOUT_S)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()
