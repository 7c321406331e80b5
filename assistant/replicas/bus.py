"""Wake-ups between replicas: PostgreSQL's LISTEN/NOTIFY on one channel, on a connection of its own.

A notification is a hint, sent when its transaction commits: `handled:ID,ID` when a turn closed
messages (an HTTP API request waiting on another replica returns), `job:ID` when a job changed (the
scheduler leader arms it). Anything sent while the connection was down is lost, so after each
(re)connect the listener runs `catch_up` to read what it may have missed from the tables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import psycopg
import sqlalchemy as sa

from assistant.backoff import doubling_s
from assistant.store.leases import CHANNEL

logger = logging.getLogger(__name__)

RECONNECT_MAX_S = 10.0


def ids_of(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.isdigit()]


def libpq_dsn(url: str) -> str:
    """The SQLAlchemy URL of the store as libpq takes it."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Bus:
    """Listens on CHANNEL until cancelled, handing each payload to the handler for its kind."""

    def __init__(
        self,
        dsn: str,
        name: str,
        handlers: Mapping[str, Callable[[list[int]], None]],
        catch_up: Callable[[], Awaitable[None]],
    ) -> None:
        self.dsn = dsn
        self.name = name
        self.handlers = handlers
        self.catch_up = catch_up
        self.connected = asyncio.Event()
        self._failures = 0

    async def run(self) -> None:
        while True:
            try:
                await self._listen()
                reason = "the connection closed"
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
            self.connected.clear()
            self._failures += 1
            delay_s = doubling_s(self._failures, 0.5, RECONNECT_MAX_S)
            logger.warning("replica wake-ups lost (%s); listening again in %.1f s", reason, delay_s)
            await asyncio.sleep(delay_s)

    async def _listen(self) -> None:
        # Keepalives, so a connection the network dropped silently is noticed in seconds, not hours.
        conn = await psycopg.AsyncConnection.connect(
            self.dsn,
            autocommit=True,
            application_name=f"hearth bus {self.name}"[:63],
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=2,
            keepalives_count=3,
        )
        async with conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.connected.set()
            self._failures = 0
            await self.catch_up()
            async for note in conn.notifies():
                self._dispatch(note.payload)

    def _dispatch(self, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        handler = self.handlers.get(kind)
        if handler is None:
            return
        try:
            handler(ids_of(rest))
        except Exception:
            logger.exception("handling the wake-up %r failed", payload)
