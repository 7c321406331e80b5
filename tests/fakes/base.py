"""What the fake provider servers share: lifecycle, the failure queue and control routes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web


@dataclass(frozen=True)
class Failure:
    """One answer the fake gives instead of success: an HTTP status, a provider code, a delay."""

    status: int = 500
    code: int | None = None
    message: str = "failure requested by the test"
    delay_s: float = 0.0


class FakeServer:
    """A real aiohttp server on loopback; subclasses add the provider's routes.

    `sent` holds every accepted send, `fail(...)` queues failures answered one per request,
    `delay_s` slows every answer (to provoke client timeouts), `hold(after)` keeps sends waiting
    until `release()`. With `drop_aborted`, a send whose client goes away before the answer (a
    killed process, a cancelled request) is not taken: the provider never had it, so a sender
    that wrote it down as sent has lost it. Without, it is taken all the same, as a provider may.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, drop_aborted: bool = False) -> None:
        self.host = host
        self.port = port
        self.url = ""
        self.sent: list[dict[str, Any]] = []
        self.attempts = 0
        self.delay_s = 0.0
        self.drop_aborted = drop_aborted
        self.dropped = 0  # sends not taken because their client went away
        self.holding = 0  # sends waiting at the gate now
        self._failures: deque[Failure | None] = deque()
        self._let_through: int | None = None
        self._gate = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def fail(self, *failures: Failure | None) -> None:
        """Answer the next requests with these failures, in order (None: succeed), then succeed."""
        self._failures.extend(failures)

    def hold(self, after: int = 0) -> None:
        """Let `after` more sends through, then keep each next one waiting until `release()`."""
        self._let_through = after
        self._gate.clear()

    def release(self) -> None:
        """Let every waiting and later send through."""
        self._let_through = None
        self._gate.set()

    async def gate(self) -> None:
        """Where a send waits while sends are held (a provider's routes call it before taking one)."""
        if self._let_through is None:
            return
        if self._let_through > 0:
            self._let_through -= 1
            return
        self.holding += 1
        try:
            await self._dropping(self._gate.wait())
        finally:
            self.holding -= 1

    async def _dropping(self, waiting: Any) -> None:
        try:
            await waiting
        except asyncio.CancelledError:
            self.dropped += 1  # only with drop_aborted: the client went away
            raise

    def routes(self, app: web.Application) -> None:
        """Add the provider's routes to `app`."""
        raise NotImplementedError

    def error_response(self, failure: Failure) -> web.Response:
        """The provider's error body for `failure`."""
        raise NotImplementedError

    async def start(self) -> Self:
        """Listen on host:port (port 0 picks a free one) and set `url`."""
        app = web.Application()
        self.routes(app)
        app.router.add_get("/_fake/sent", self._list_sent)
        app.router.add_post("/_fake/fail", self._queue_failures)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=self.drop_aborted)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def failure_or_none(self) -> web.Response | None:
        """Count the attempt, wait any delay, and give the next queued failure's answer."""
        self.attempts += 1
        if self.delay_s:
            await self._dropping(asyncio.sleep(self.delay_s))
        if not self._failures:
            return None
        failure = self._failures.popleft()
        if failure is None:
            return None
        if failure.delay_s:
            await asyncio.sleep(failure.delay_s)
        return self.error_response(failure)

    async def _list_sent(self, request: web.Request) -> web.Response:
        return web.json_response(self.sent)

    async def _queue_failures(self, request: web.Request) -> web.Response:
        items = await request.json()
        self.fail(*(Failure(**item) if item is not None else None for item in items))
        return web.json_response([f and asdict(f) for f in self._failures])


def serve_forever(make: Callable[[str, int], FakeServer], description: str) -> None:
    """The command line of a fake: `--host`, `--port`; prints where it listens."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    async def run() -> None:
        async with make(args.host, args.port) as server:
            print(f"listening on {server.url}", flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
