"""The terminal chat: lines typed at the prompt go through the same inbox, router and outbox."""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any, TextIO

from aiohttp import web

from assistant.keys import CLOCK, HANDLED, METRICS, ROUTER, STORE
from assistant.store import inbox
from assistant.types import Address, Inbound, Outbound

NAME = "console"
REPLY_GRACE_S = 5.0


class ConsoleChannel:
    """Prints replies; `delivered` is set each time one is printed."""

    name = NAME

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.delivered = asyncio.Event()

    async def send(self, reply: Outbound) -> str | None:
        print(f"hearth> {reply.text}", file=self.out, flush=True)
        self.delivered.set()
        return None


async def stdin_lines(prompt: str) -> AsyncIterator[str]:
    """Lines from standard input, read off the event loop; stops at end of input."""
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print(prompt, end="", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        if line.strip():
            yield line.strip()


async def _wait_answer(channel: ConsoleChannel, handled: asyncio.Future[None]) -> None:
    """Until the message is handled and its reply printed, or a notice about it was printed."""
    printed = asyncio.ensure_future(channel.delivered.wait())
    either: list[asyncio.Future[Any]] = [handled, printed]
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if handled.done() and not printed.done():
            await asyncio.wait({printed}, timeout=REPLY_GRACE_S)
    finally:
        printed.cancel()


async def converse(app: web.Application, channel: ConsoleChannel, lines: AsyncIterator[str]) -> None:
    """Send each line as a message from this user and wait for its answer before the next."""
    sender = Address(NAME, getpass.getuser())
    async for line in lines:
        now = app[CLOCK]()
        message = Inbound(NAME, uuid.uuid4().hex, sender, line, now)
        [accepted] = await inbox.accept(app[STORE], [message], now)
        app[METRICS].accepted.inc()
        with app[HANDLED].watch(accepted.message_id) as handled:
            channel.delivered.clear()
            app[ROUTER].notify(accepted.chat_id)
            await _wait_answer(channel, handled)
