"""The router's leases and the heartbeat that keeps them: renewing what this replica holds, and
taking over the chats of a replica that died once their leases ran out."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime

from assistant.store import Store, leases
from assistant.store.leases import Replica

logger = logging.getLogger(__name__)

NAME_MAX = 96
Clock = Callable[[], datetime]


def replica_name() -> str:
    """This process's name on leases: host, pid and a random part (a pid is reused after a restart)."""
    tail = f":{os.getpid()}:{secrets.token_hex(3)}"
    return socket.gethostname()[: NAME_MAX - len(tail)] + tail


class Leases:
    """A chat's lease for the router's lanes, taken and given back in the shared database."""

    def __init__(self, store: Store, replica: Replica, clock: Clock) -> None:
        self.store = store
        self.replica = replica
        self.clock = clock
        # The chats a lane runs now: only their leases are renewed, so one a lane failed to give
        # back still runs out.
        self.held: set[int] = set()

    async def take(self, chat_id: int) -> bool:
        taken = await leases.take(self.store, chat_id, self.replica)
        if taken:
            self.held.add(chat_id)
        else:
            self.held.discard(chat_id)
        return taken

    async def give_back(self, chat_id: int) -> None:
        self.held.discard(chat_id)
        await leases.give_back(self.store, chat_id, self.replica)

    async def due(self, chat_id: int) -> bool:
        return await leases.due(self.store, chat_id, self.clock())


class Heartbeat:
    """Every third of the lease: renew this replica's leases and claims, then route the chats no
    live lease covers (their replica died, or a wake-up was missed) and wake the outbox sender,
    which claims the replies a dead replica left."""

    def __init__(
        self,
        held: Leases,
        route: Callable[[int], None],
        wake_sender: Callable[[], None],
    ) -> None:
        self.held = held
        self.store, self.replica = held.store, held.replica
        self.route = route
        self.wake_sender = wake_sender
        self.interval_s = held.replica.lease_s / 3

    async def run(self) -> None:
        failing = False
        while True:
            try:
                await self.beat()
                failing = False
            except Exception:
                # Leases not renewed run out; the turns they cover are fenced when they close.
                if not failing:
                    logger.exception("renewing this replica's leases failed; trying again")
                failing = True
            await asyncio.sleep(self.interval_s)

    async def beat(self) -> None:
        await leases.renew(self.store, self.replica, sorted(self.held.held))
        for chat_id in await leases.unleased(self.store, self.held.clock()):
            self.route(chat_id)
        self.wake_sender()
