"""The router's leases and the heartbeat that keeps them: renewing what this replica holds, and
taking over the chats of a replica that died once their leases ran out."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable

from assistant.store import Store, leases
from assistant.store.leases import Replica

logger = logging.getLogger(__name__)

NAME_MAX = 96


def replica_name() -> str:
    """This process's name on leases: host, pid and a random part (a pid is reused after a restart)."""
    tail = f":{os.getpid()}:{secrets.token_hex(3)}"
    return socket.gethostname()[: NAME_MAX - len(tail)] + tail


class Leases:
    """A chat's lease for the router's lanes, taken and given back in the shared database."""

    def __init__(self, store: Store, replica: Replica) -> None:
        self.store = store
        self.replica = replica

    async def take(self, chat_id: int) -> bool:
        return await leases.take(self.store, chat_id, self.replica)

    async def give_back(self, chat_id: int) -> None:
        await leases.give_back(self.store, chat_id, self.replica)

    async def due(self, chat_id: int) -> bool:
        return await leases.due(self.store, chat_id)


class Heartbeat:
    """Every third of the lease: renew this replica's leases and claims, then route the chats no
    live lease covers (their replica died, or a wake-up was missed) and wake the outbox sender,
    which claims the replies a dead replica left."""

    def __init__(
        self,
        store: Store,
        replica: Replica,
        route: Callable[[int], None],
        wake_sender: Callable[[], None],
    ) -> None:
        self.store = store
        self.replica = replica
        self.route = route
        self.wake_sender = wake_sender
        self.interval_s = replica.lease_s / 3

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
        await leases.renew(self.store, self.replica)
        for chat_id in await leases.unleased(self.store):
            self.route(chat_id)
        self.wake_sender()
