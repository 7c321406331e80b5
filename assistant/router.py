"""The router: one lane per chat (ordered inside a chat, parallel across chats) under a global cap."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from assistant.store import Store, inbox
from assistant.store.inbox import Superseded
from assistant.store.tables import Chat, Message

logger = logging.getLogger(__name__)

Handler = Callable[[Chat, list[Message]], Awaitable[None]]


class Leases(Protocol):
    """Who handles a chat when several replicas share the database (see assistant.replicas)."""

    async def take(self, chat_id: int) -> bool: ...

    async def give_back(self, chat_id: int) -> None: ...

    async def due(self, chat_id: int) -> bool: ...


Clock = Callable[[], datetime]
FAILED_LANE_RETRY_S = 5.0


def wait_s(batch: list[Message], now: datetime) -> float:
    """How long a chat must wait before its next try; zero when it may run now."""
    due = [m.next_attempt_at for m in batch if m.next_attempt_at is not None]
    return max(((at - now).total_seconds() for at in due), default=0.0)


class Router:
    """Wakes on `notify(chat_id)`; a lane runs a chat's turns one at a time until its inbox is empty."""

    def __init__(
        self,
        store: Store,
        handle: Handler,
        max_concurrent_turns: int,
        clock: Clock,
        *,
        batch_max: int,
        leases: Leases | None = None,
    ):
        self.store = store
        # With leases, a lane runs only while this replica holds its chat's lease.
        self.leases = leases
        self.handle = handle
        self.clock = clock
        # A turn takes at most this many of a chat's pending messages; the rest wait for the next.
        self.batch_max = batch_max
        self.in_flight = 0
        self._slots = asyncio.Semaphore(max_concurrent_turns)
        self._lanes: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._closing = False

    @property
    def lanes(self) -> int:
        return len(self._lanes)

    def notify(self, chat_id: int) -> None:
        """A chat has new work. Safe to call any number of times."""
        if self._closing:
            return
        if chat_id in self._lanes:
            self._dirty.add(chat_id)
            return
        self._lanes[chat_id] = asyncio.create_task(self._lane(chat_id), name=f"lane-{chat_id}")

    async def recover(self) -> int:
        """Route again every message accepted but not handled (after a crash or a stop)."""
        chat_ids = await inbox.pending_chat_ids(self.store)
        for chat_id in chat_ids:
            self.notify(chat_id)
        return len(chat_ids)

    async def _lane(self, chat_id: int) -> None:
        try:
            while await self._hold(chat_id):
                try:
                    emptied = await self._rounds(chat_id)
                except Exception:
                    # A lost database connection, say: the lease still goes back, the chat is tried again.
                    logger.exception("chat %s's lane failed; trying again", chat_id)
                    self._arm(chat_id, FAILED_LANE_RETRY_S)
                    emptied = False
                if not await self._let_go(chat_id, emptied):
                    return
        finally:
            self._lanes.pop(chat_id, None)
            self._after_lane(chat_id)

    def _after_lane(self, chat_id: int) -> None:
        """A message that came while the lane was ending (giving its lease back, say) only marked
        the chat: route it now, unless a timer will."""
        if chat_id in self._dirty:
            self._dirty.discard(chat_id)
            if chat_id not in self._timers:
                self.notify(chat_id)

    async def _rounds(self, chat_id: int) -> bool:
        """Turns until the chat's inbox is empty (True) or it must wait for a timer (False)."""
        held_now = True  # `_hold` just took the lease: the first turn need not take it again
        while not self._closing:
            self._dirty.discard(chat_id)
            # The lease before the batch: a batch read first could be one that another replica
            # answered while this one stalled, and the turn would run it again.
            if not held_now and self.leases is not None and not await self.leases.take(chat_id):
                # The lease ran out (this replica stalled) and another replica took the chat over.
                return False
            held_now = False
            found = await inbox.pending(self.store, chat_id, self.batch_max)
            batch = found.messages if found else []
            if not found or not batch:
                if chat_id in self._dirty:
                    continue
                return True
            delay_s = wait_s(batch, self.clock())
            if delay_s > 0:
                self._arm(chat_id, delay_s)
                return False
            if not await self._turn(found.chat, batch):
                self._arm(chat_id, FAILED_LANE_RETRY_S)
                return False
            # The loop's turn before the next read: whoever waits for this turn's reply (a long
            # poll) hears of it now, and other chats' requests are not held up by a long backlog.
            await asyncio.sleep(0)
        return False

    async def _hold(self, chat_id: int) -> bool:
        """Whether this lane may run the chat: always alone; with leases, once it holds the lease
        (another replica holding it runs the chat, and sees the new message itself)."""
        if self.leases is None:
            return True
        try:
            return await self.leases.take(chat_id)
        except Exception:
            logger.exception("taking chat %s's lease failed; trying again", chat_id)
            self._arm(chat_id, FAILED_LANE_RETRY_S)
            return False

    async def _let_go(self, chat_id: int, emptied: bool) -> bool:
        """Give the lease back; True when a message came in meanwhile and the lane goes on. A message
        accepted elsewhere while this replica held the lease is seen here, after the lease is free."""
        if self.leases is None:
            return False
        try:
            await self.leases.give_back(chat_id)
            return emptied and not self._closing and await self.leases.due(chat_id)
        except Exception:
            # The lease runs out by itself, and then any replica's heartbeat routes the chat again.
            logger.exception("giving chat %s's lease back failed", chat_id)
            return False

    async def _turn(self, chat: Chat, batch: list[Message]) -> bool:
        async with self._slots:
            if self._closing:
                return True
            self.in_flight += 1
            try:
                await self.handle(chat, batch)
            except Superseded as exc:
                logger.warning("chat %s was answered by another replica meanwhile: %s", chat.id, exc)
            except Exception:
                logger.exception("a turn for chat %s failed outside the pipeline", chat.id)
                return False
            finally:
                self.in_flight -= 1
        return True

    def _arm(self, chat_id: int, delay_s: float) -> None:
        if (old := self._timers.pop(chat_id, None)) is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._timers[chat_id] = loop.call_later(delay_s, self._fire, chat_id)

    def _fire(self, chat_id: int) -> None:
        self._timers.pop(chat_id, None)
        self.notify(chat_id)

    async def drain(self, timeout_s: float) -> None:
        """Stop taking work; let running turns finish within `timeout_s`, then cancel the rest.
        A cancelled turn leaves its messages accepted, so the next start answers them."""
        self._closing = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        lanes = list(self._lanes.values())
        if not lanes:
            return
        _, running = await asyncio.wait(lanes, timeout=timeout_s)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if running:
            logger.warning("cancelled %d turns that did not finish in %.0f s", len(running), timeout_s)
