"""Warm workers per (skill, chat): reused while alive, evicted when idle or least recently used."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

logger = logging.getLogger(__name__)

PoolKey = tuple[str, str]


class PooledWorker(Protocol):
    def alive(self) -> bool: ...

    async def close(self) -> None: ...


W = TypeVar("W", bound=PooledWorker)


@dataclass
class _Entry(Generic[W]):
    worker: W
    last_used_at: float
    busy: bool = True


@dataclass
class WarmPool(Generic[W]):
    """At most `max_workers` workers; idle ones go after `idle_s`; a dead one is replaced on use.

    Every slot is either an entry or a reservation (a worker being made); a reservation is given
    back on every path out of a checkout, cancellation included, so no slot is ever lost."""

    max_workers: int = 8
    idle_s: float = 300
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[PoolKey, _Entry[W]] = field(default_factory=OrderedDict)
    _key_locks: dict[PoolKey, asyncio.Lock] = field(default_factory=dict)
    _reserved: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _sweeper: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[PoolKey]:
        """Keys from least to most recently used."""
        return list(self._entries)

    @contextlib.asynccontextmanager
    async def lease(self, key: PoolKey, factory: Callable[[], Awaitable[W]]) -> AsyncIterator[W]:
        """The worker for `key`, from `factory` if none is alive; one call per key at a time.

        A lease left by cancellation discards its worker: what the call started may still be running
        in it, and the next call must not meet its leftovers."""
        lock = self._key_locks.setdefault(key, asyncio.Lock())
        async with lock:
            worker = await self._checkout(key, factory)
            try:
                yield worker
            except asyncio.CancelledError:
                logger.info("discarding the worker of a cancelled call for %s", key)
                await self._discard(key)
                raise
            finally:
                await self._checkin(key, worker)

    async def _checkout(self, key: PoolKey, factory: Callable[[], Awaitable[W]]) -> W:
        entry = self._entries.get(key)
        if entry is not None and entry.worker.alive():
            self._entries.move_to_end(key)
            entry.busy = True
            return entry.worker
        if entry is not None:
            logger.info("replacing the dead worker for %s", key)
            await self._discard(key)
        victim = await self._reserve()
        try:
            if victim is not None:
                logger.info("evicting the least recently used worker %s", victim[0])
                await victim[1].worker.close()
            worker = await factory()
        except BaseException:
            self._reserved -= 1
            self._wake()
            raise
        # The reservation becomes the entry, with no await in between.
        self._reserved -= 1
        self._entries[key] = _Entry(worker, self.clock())
        return worker

    async def _reserve(self) -> tuple[PoolKey, _Entry[W]] | None:
        """Take a slot, waiting for one to be free or idle; the idle entry it takes the place of, to
        be closed, or None."""
        while not self._room_or_idle():
            await self._changed.wait()
        self._reserved += 1
        if len(self._entries) + self._reserved <= self.max_workers:
            return None
        victim = next(k for k, e in self._entries.items() if not e.busy)
        return victim, self._entries.pop(victim)

    def _room_or_idle(self) -> bool:
        if len(self._entries) + self._reserved < self.max_workers:
            return True
        return any(not e.busy for e in self._entries.values())

    def _wake(self) -> None:
        """Tell every waiting checkout that a slot may have come free."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _checkin(self, key: PoolKey, worker: W) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.worker is worker:
            entry.busy = False
            entry.last_used_at = self.clock()
            if not worker.alive():
                await self._discard(key)
        self._wake()

    async def _discard(self, key: PoolKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._wake()
            await entry.worker.close()

    async def evict_idle(self) -> int:
        """Close the workers idle for `idle_s` or longer; how many went."""
        now = self.clock()
        stale = [k for k, e in self._entries.items() if not e.busy and now - e.last_used_at >= self.idle_s]
        for key in stale:
            await self._discard(key)
        return len(stale)

    def next_eviction_in_s(self) -> float:
        """Seconds until the longest-idle worker is due to go (idle_s when none is idle)."""
        idle = [e.last_used_at for e in self._entries.values() if not e.busy]
        if not idle:
            return self.idle_s
        return max(0.0, min(idle) + self.idle_s - self.clock())

    def start(self) -> None:
        """Start evicting idle workers in the background."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="sandbox-pool-sweeper")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(max(self.next_eviction_in_s(), 0.05))
            try:
                await self.evict_idle()
            except Exception:
                logger.exception("evicting idle workers failed")

    async def close(self) -> None:
        """Stop the sweeper and close every worker."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        keys = list(self._entries)
        await asyncio.gather(*(self._discard(key) for key in keys))
