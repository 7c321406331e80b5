"""The outbox sender: delivers replies in order within each chat, retrying with backoff and jitter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from assistant.backoff import backoff_s
from assistant.channels import Channel, SendError
from assistant.metrics import Metrics
from assistant.store import Store, outbox
from assistant.store.outbox import Due
from assistant.types import Address, Outbound

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_AGE = timedelta(hours=24)
PAGE = 200


def outbound(due: Due) -> Outbound:
    assert due.reply.id is not None
    return Outbound(
        reply_id=due.reply.id,
        channel=due.chat.channel,
        to=Address.parse(due.chat.address),
        text=due.reply.text,
        attempts=due.reply.attempts,
        meta=dict(due.reply.meta),
    )


class Sender:
    """One task that wakes when replies are written or a retry falls due."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        clock: Clock,
        metrics: Metrics,
        retry_s: float,
        max_age_s: float = MAX_AGE.total_seconds(),
    ) -> None:
        self.store = store
        self.max_age = timedelta(seconds=max_age_s)
        self.retry_s = retry_s
        self.channels = channels
        self.clock = clock
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._retrying = True  # look for retries due at the first round

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        self.wake()
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
                await self._arm_timer()
            except Exception:
                logger.exception("the outbox sender failed a round; trying again shortly")
                self._arm(self.retry_s)

    async def flush(self) -> None:
        """Deliver every due reply; chats in parallel, each chat's replies in order."""
        while True:
            due = await outbox.due(self.store, self.clock(), PAGE)
            by_chat: dict[int, list[Due]] = {}
            for row in due:
                if row.chat.channel in self.channels and row.chat.id is not None:
                    by_chat.setdefault(row.chat.id, []).append(row)
            await asyncio.gather(*(self._deliver_chat(rows) for rows in by_chat.values()))
            if len(due) < PAGE or not by_chat:
                return

    async def _deliver_chat(self, rows: list[Due]) -> None:
        for row in rows:
            if not await self._deliver(row):
                return

    async def _deliver(self, row: Due) -> bool:
        """Send one reply; True when the next reply of the chat may follow it."""
        reply = outbound(row)
        attempts = reply.attempts + 1
        try:
            provider_id = await self.channels[reply.channel].send(reply)
        except SendError as exc:
            return await self._failed(row, attempts, exc)
        except Exception:
            logger.exception("sending reply %s failed unexpectedly", reply.reply_id)
            error = SendError("unexpected error while sending", retryable=True)
            return await self._failed(row, attempts, error)
        await outbox.record(self.store, [outbox.sent(reply.reply_id, provider_id, self.clock())])
        self.metrics.sent.inc()
        return True

    async def _failed(self, row: Due, attempts: int, exc: SendError) -> bool:
        assert row.reply.id is not None
        now = self.clock()
        reason = f"{exc.code}: {exc.reason}" if exc.code else exc.reason
        too_old = now - row.reply.created_at > self.max_age
        if not exc.retryable or too_old:
            logger.warning("reply %s failed for good: %s", row.reply.id, reason)
            await outbox.record(self.store, [outbox.failed(row.reply.id, attempts, reason)])
            return True
        next_at = now + timedelta(seconds=backoff_s(attempts, self.retry_s))
        logger.info("reply %s will be retried at %s: %s", row.reply.id, next_at, reason)
        await outbox.record(self.store, [outbox.retry(row.reply.id, attempts, next_at, reason)])
        self._retrying = True
        return False

    async def _arm_timer(self) -> None:
        """Wake again when the earliest retry falls due; only needed after a round that deferred one."""
        if not self._retrying:
            return
        self._retrying = False
        next_at = await outbox.next_attempt_at(self.store)
        if next_at is not None:
            self._arm(max((next_at - self.clock()).total_seconds(), 0.0))

    def _arm(self, delay_s: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay_s, self._timer_fired)

    def _timer_fired(self) -> None:
        # Other replies may still wait for later retries: look again after this round.
        self._retrying = True
        self.wake()
