"""The store's write lock: one holder at a time, urgent waiters first, cancellation passes it on."""

from __future__ import annotations

import asyncio

from assistant.store.writelock import WriteLock


async def test_urgent_waiters_go_first_then_arrival_order() -> None:
    lock, order = WriteLock(), []
    release = asyncio.Event()

    async def holder() -> None:
        async with lock.hold():
            await release.wait()

    async def waiter(name: str, urgent: bool) -> None:
        async with lock.hold(urgent=urgent):
            order.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [
        asyncio.create_task(waiter(n, u)) for n, u in (("a", False), ("b", True), ("c", False), ("d", True))
    ]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *tasks)
    assert order == ["b", "d", "a", "c"]


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    lock = WriteLock()
    release = asyncio.Event()

    async def holder() -> None:
        async with lock.hold():
            await release.wait()

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(lock.hold().__aenter__())
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await first
    async with asyncio.timeout(1), lock.hold():
        pass
