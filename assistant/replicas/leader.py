"""One scheduler for all replicas: the one holding a PostgreSQL session advisory lock, on a
connection of its own that is never pooled (a pooled connection would keep the lock for its next
user). When the leader dies its session ends, the lock is free, and the next replica to try takes
it; every due time is still claimed in the job table, so two leaders for a moment fire nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import psycopg

from assistant.store import locks

logger = logging.getLogger(__name__)

TRY_EVERY_S = 1.0
KEEPALIVE_COUNT = 3


async def _watched_by_server(conn: psycopg.AsyncConnection[tuple[object, ...]], idle_s: int) -> None:
    """The server's side of the lock's connection probes it too. Only the server can end a session:
    when the leader's machine dies (power, a kernel panic, a cut cable) no close reaches it, and by
    its own defaults it would notice after two hours, keeping the lock, and the scheduler, with the
    dead leader. Any user may set these for its session."""
    settings = {
        "tcp_keepalives_idle": idle_s,
        "tcp_keepalives_interval": 1,
        "tcp_keepalives_count": KEEPALIVE_COUNT,
    }
    if conn.info.server_version >= 120000:  # with unacknowledged data in flight, keepalives wait
        settings["tcp_user_timeout"] = (idle_s + KEEPALIVE_COUNT) * 1000
    for name, value in settings.items():
        await conn.execute("SELECT set_config(%s, %s, false)", (name, str(value)))


class Leader:
    """Tries for the lock every TRY_EVERY_S; once held, `lead()` starts the scheduler and the
    connection is checked every `check_s`. Any error on it means the lock may be gone: `follow()`
    stops the scheduler at once and the replica tries again on a new connection."""

    def __init__(
        self,
        dsn: str,
        name: str,
        lead: Callable[[], Awaitable[object]],
        follow: Callable[[], None],
        check_s: float,
    ) -> None:
        self.dsn = dsn
        self.name = name
        self.lead = lead
        self.follow = follow
        self.check_s = check_s
        self.leading = False

    async def run(self) -> None:
        while True:
            try:
                await self._term()
            except Exception as exc:
                logger.warning("the scheduler lock's connection failed (%s); trying again", exc)
            finally:
                if self.leading:
                    self.leading = False
                    self.follow()
                    logger.warning("this replica no longer runs the scheduler")
            await asyncio.sleep(TRY_EVERY_S)

    async def _term(self) -> None:
        # Keepalives, so a leader cut off by the network loses its session (and the lock) in about
        # a check interval rather than the system's two hours.
        idle_s = max(int(self.check_s), 1)
        conn = await psycopg.AsyncConnection.connect(
            self.dsn,
            autocommit=True,
            application_name=f"hearth leader {self.name}"[:63],
            keepalives=1,
            keepalives_idle=idle_s,
            keepalives_interval=1,
            keepalives_count=KEEPALIVE_COUNT,
        )
        async with conn:
            await _watched_by_server(conn, idle_s)
            await self._wait_for_lock(conn)
            self.leading = True
            logger.info("this replica runs the scheduler")
            await self.lead()
            while True:
                await asyncio.sleep(self.check_s)
                await conn.execute("SELECT 1")

    async def _wait_for_lock(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        while True:
            if await self._try(conn):
                return
            await asyncio.sleep(TRY_EVERY_S)

    async def _try(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> bool:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", locks.LEADER)
        row = await cursor.fetchone()
        return bool(row and row[0])
