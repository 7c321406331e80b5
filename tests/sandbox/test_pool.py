"""The warm pool with fake workers: reuse, LRU and idle eviction, replacing the dead."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from assistant.sandbox.pool import PoolKey, WarmPool


@dataclass
class FakeWorker:
    key: PoolKey
    dead: bool = False
    closed: bool = False

    def alive(self) -> bool:
        return not self.dead

    async def close(self) -> None:
        self.closed = True


@dataclass
class Clock:
    now_s: float = 0.0

    def __call__(self) -> float:
        return self.now_s


@dataclass
class Factory:
    made: list[FakeWorker] = field(default_factory=list)

    def for_key(self, key: PoolKey) -> FakeWorker:
        worker = FakeWorker(key)
        self.made.append(worker)
        return worker


async def use(pool: WarmPool[FakeWorker], factory: Factory, key: PoolKey) -> FakeWorker:
    async def make() -> FakeWorker:
        return factory.for_key(key)

    async with pool.lease(key, make) as worker:
        return worker


async def test_a_key_reuses_its_worker_and_keys_never_share() -> None:
    pool: WarmPool[FakeWorker] = WarmPool(max_workers=4)
    factory = Factory()
    first = await use(pool, factory, ("notes", "a"))
    assert await use(pool, factory, ("notes", "a")) is first
    other = await use(pool, factory, ("notes", "b"))
    assert other is not first
    assert len(factory.made) == 2


async def test_the_least_recently_used_gives_way_at_the_cap() -> None:
    pool: WarmPool[FakeWorker] = WarmPool(max_workers=2)
    factory = Factory()
    a = await use(pool, factory, ("s", "a"))
    b = await use(pool, factory, ("s", "b"))
    await use(pool, factory, ("s", "a"))
    c = await use(pool, factory, ("s", "c"))
    assert b.closed
    assert not a.closed
    assert not c.closed
    assert pool.keys() == [("s", "a"), ("s", "c")]


async def test_idle_workers_are_evicted_after_idle_s() -> None:
    clock = Clock()
    pool: WarmPool[FakeWorker] = WarmPool(max_workers=4, idle_s=300, clock=clock)
    factory = Factory()
    old = await use(pool, factory, ("s", "old"))
    clock.now_s = 200
    recent = await use(pool, factory, ("s", "recent"))
    assert pool.next_eviction_in_s() == 100
    clock.now_s = 300
    assert await pool.evict_idle() == 1
    assert old.closed
    assert not recent.closed
    assert pool.next_eviction_in_s() == 200


async def test_a_dead_worker_is_replaced_on_the_next_call() -> None:
    pool: WarmPool[FakeWorker] = WarmPool()
    factory = Factory()
    first = await use(pool, factory, ("s", "a"))
    first.dead = True
    second = await use(pool, factory, ("s", "a"))
    assert second is not first
    assert first.closed
    assert len(pool) == 1


async def test_at_the_cap_with_all_busy_a_new_key_waits_for_one_to_free() -> None:
    pool: WarmPool[FakeWorker] = WarmPool(max_workers=1)
    factory = Factory()
    release = asyncio.Event()

    async def hold() -> None:
        async def make() -> FakeWorker:
            return factory.for_key(("s", "a"))

        async with pool.lease(("s", "a"), make):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(use(pool, factory, ("s", "b")))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    release.set()
    await holder
    b = await waiter
    assert factory.made[0].closed
    assert not b.closed
    assert len(pool) == 1


async def test_the_sweeper_runs_and_close_removes_everything() -> None:
    pool: WarmPool[FakeWorker] = WarmPool(idle_s=0.05)
    factory = Factory()
    pool.start()
    worker = await use(pool, factory, ("s", "a"))
    await asyncio.sleep(0.2)
    assert worker.closed
    kept = await use(pool, factory, ("s", "b"))
    await pool.close()
    assert kept.closed
    assert len(pool) == 0


async def test_a_lease_left_by_cancellation_discards_its_worker() -> None:
    pool: WarmPool[FakeWorker] = WarmPool()
    factory = Factory()
    first = await use(pool, factory, ("s", "a"))
    inside = asyncio.Event()

    async def hang() -> None:
        async def make() -> FakeWorker:
            return factory.for_key(("s", "a"))

        async with pool.lease(("s", "a"), make):
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(hang())
    await inside.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert first.closed
    assert len(pool) == 0
    assert await use(pool, factory, ("s", "a")) is not first


async def test_a_failed_or_cancelled_start_gives_its_slot_to_a_waiting_call() -> None:
    pool: WarmPool[FakeWorker] = WarmPool(max_workers=1)
    factory = Factory()
    starting, refuse = asyncio.Event(), asyncio.Event()

    async def refused() -> FakeWorker:
        starting.set()
        await refuse.wait()
        raise RuntimeError("the engine refused")

    async def start() -> None:
        async with pool.lease(("s", "a"), refused):
            pass

    for end in ("fail", "cancel"):
        starting.clear()
        refuse.clear()
        stuck = asyncio.create_task(start())
        await starting.wait()
        waiter = asyncio.create_task(use(pool, factory, ("s", end)))
        await asyncio.sleep(0.01)
        assert not waiter.done()  # the only slot is reserved for the start under way
        if end == "cancel":
            stuck.cancel()
        else:
            refuse.set()
        await asyncio.gather(stuck, return_exceptions=True)
        async with asyncio.timeout(1):
            assert (await waiter).key == ("s", end)
