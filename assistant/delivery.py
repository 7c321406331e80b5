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
from assistant.store.leases import Replica
from assistant.store.outbox import Due, Held
from assistant.types import Address, Outbound

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_AGE = timedelta(hours=24)
PAGE = 200
HELD_CHECK = timedelta(seconds=60)
NOT_SERVED = "no {channel} channel runs here to send it; given up after {age_s} s"


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
    """One task that wakes when replies are written or a retry falls due.

    It sends only for the channels it was given; replies for any other channel wait (they never
    hold up the others) until a process serving it runs, and fail once older than `max_age_s`.
    """

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        clock: Clock,
        metrics: Metrics,
        retry_s: float,
        max_age_s: float = MAX_AGE.total_seconds(),
        replica: Replica | None = None,
    ) -> None:
        self.store = store
        # On a database shared by replicas, each reply is claimed before it is sent.
        self.replica = replica
        self.max_age = timedelta(seconds=max_age_s)
        self.retry_s = retry_s
        self.channels = channels
        self.served = frozenset(channels)
        self.clock = clock
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._failed_rounds = 0
        self._held: dict[str, int] = {}
        self._held_until: datetime | None = None
        self._held_check_at: datetime | None = None
        self._retry_at: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        self.wake()
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self._arm_at(await self.flush())
                self._failed_rounds = 0
            except Exception:
                self._failed_rounds += 1
                delay_s = backoff_s(self._failed_rounds, self.retry_s)
                logger.exception("the outbox sender failed a round; trying again in %.1f s", delay_s)
                self._arm(delay_s)

    async def flush(self) -> datetime | None:
        """Deliver every due reply, chats in parallel and each chat's replies in order; return when
        the next round is due. A retry due by the time the round started was the round's to send (or
        waits behind a later one), so only later ones count: a reply blocked in its chat never spins
        the loop."""
        started_at = self.clock()
        self._retry_at = None
        await self._sweep_held(started_at)
        while True:
            found = await outbox.due_round(
                self.store, self.clock(), self.served, started_at, PAGE, self.replica
            )
            by_chat: dict[int, list[Due]] = {}
            for row in found.due:
                if row.chat.id is not None:
                    by_chat.setdefault(row.chat.id, []).append(row)
            await asyncio.gather(*(self._deliver_chat(rows) for rows in by_chat.values()))
            if len(found.due) < PAGE:
                # Read before this round's sends: the retries they set are counted in `_retry_at`.
                times = (found.next_attempt_at, self._retry_at, self._held_until, self._held_check_at)
                return min((at for at in times if at is not None), default=None)

    async def _sweep_held(self, now: datetime) -> None:
        """Give up the replies for channels not served here once they are too old; say when the
        replies waiting for such channels change. Such replies are rare (a channel switched off, a
        replica serving fewer channels): they are looked for once a minute (sooner for a short max
        age), not every round."""
        due = (self._held_check_at, self._held_until)
        if self._held_check_at is not None and all(at is None or now < at for at in due):
            return
        self._held_check_at = now + min(HELD_CHECK, self.max_age / 2)
        cutoff = now - self.max_age
        held = await outbox.held(self.store, self.served)
        if any(h.oldest_at <= cutoff for h in held):
            why = NOT_SERVED.replace("{age_s}", f"{self.max_age.total_seconds():g}")
            count = await outbox.give_up_held(self.store, self.served, cutoff, why)
            logger.warning("%d replies for channels not running here were given up", count)
            held = await outbox.held(self.store, self.served)
        self._tell_held(held)
        self._held_until = min((h.oldest_at for h in held), default=None)
        if self._held_until is not None:
            self._held_until += self.max_age

    def _tell_held(self, held: list[Held]) -> None:
        counts = {h.channel: h.count for h in held}
        if counts == self._held:
            return
        self._held = counts
        for h in held:
            logger.warning(
                "%d replies wait for the %s channel, which does not run here; they go out when it "
                "does, or fail %g s after they were written",
                h.count,
                h.channel,
                self.max_age.total_seconds(),
            )

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
        status = await outbox.settle(self.store, reply.reply_id, provider_id, self.clock())
        if status == "sent":
            self.metrics.sent.inc()
        elif status == "failed":
            logger.warning("reply %s failed at the provider while it went out", reply.reply_id)
        else:
            # To go again as the template, before anything later in its chat.
            self.wake()
            return False
        return True

    async def _failed(self, row: Due, attempts: int, exc: SendError) -> bool:
        assert row.reply.id is not None
        now = self.clock()
        reason = f"{exc.code}: {exc.reason}" if exc.code else exc.reason
        give_up_at = row.reply.created_at + self.max_age
        if not exc.retryable or now >= give_up_at:
            logger.warning("reply %s failed for good: %s", row.reply.id, reason)
            await outbox.record(self.store, [outbox.failed(row.reply.id, attempts, reason)], self.replica)
            return True
        # The last try falls at the give-up time, not up to a whole backoff after it.
        next_at = min(now + timedelta(seconds=backoff_s(attempts, self.retry_s)), give_up_at)
        logger.info("reply %s will be retried at %s: %s", row.reply.id, next_at, reason)
        self._retry_at = min(next_at, self._retry_at or next_at)
        await outbox.record(self.store, [outbox.retry(row.reply.id, attempts, next_at, reason)], self.replica)
        return False

    def _arm_at(self, at: datetime | None) -> None:
        if at is not None:
            self._arm(max((at - self.clock()).total_seconds(), 0.0))

    def _arm(self, delay_s: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay_s, self.wake)
