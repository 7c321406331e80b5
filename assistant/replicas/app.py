"""Replicas in the application: leases and wake-ups before the core starts, the scheduler's leader
lock in place of a plain start. Nothing runs on SQLite."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiohttp import web

from assistant.jobs.service import JobService
from assistant.jobs.triggers import spec_of
from assistant.keys import CLOCK, HANDLED, JOBS, LEASES, REPLICA, ROUTER, SENDER, SETTINGS, STORE
from assistant.replicas.leases import Heartbeat, Leases, replica_name
from assistant.store import inbox, jobs, leases
from assistant.store.leases import Replica

logger = logging.getLogger(__name__)


class Tasks:
    """Background tasks started from wake-ups, kept until they finish."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def cancel(self) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


async def _rearm(service: JobService, job_ids: list[int], turn: asyncio.Lock) -> None:
    """Arm the jobs as their rows now are (another replica changed them), when leading. One wake-up
    at a time, in the order they came: of a pause and a resume told in quick succession, the pause's
    read finishing last would leave a live job unarmed."""
    async with turn:
        for job_id in job_ids:
            job = await jobs.get(service.store, job_id) if service.leading else None
            if job is not None:
                service.arm(job)


async def _refresh(service: JobService) -> None:
    """Arm every live job from its row (after missing what other replicas said), when leading: a due
    time already passed fires at once and is caught up as a late one."""
    if service.leading:
        for armed in await jobs.schedulable(service.store):
            service.timer.put(armed.id, spec_of(armed), armed.next_run_at)


def _route(app: web.Application, chat_id: int) -> None:
    if ROUTER in app:
        app[ROUTER].notify(chat_id)


def _wake_sender(app: web.Application) -> None:
    if SENDER in app:
        app[SENDER].wake()


async def _catch_up(app: web.Application) -> None:
    """What a replica may have missed while it did not listen: turns closed elsewhere that a request
    here waits on, and jobs changed elsewhere (when it leads)."""
    waiting = app[HANDLED].waiting()
    if waiting:
        app[HANDLED].fire(await inbox.closed(app[STORE], waiting))
    await _refresh(app[JOBS])


async def replicas_ctx(app: web.Application) -> AsyncIterator[None]:
    """On PostgreSQL: name this replica, keep its leases, listen for the others; runs before the
    core, so on the way out it lets its leases go only after the running turns are drained."""
    store, settings = app[STORE], app[SETTINGS]
    if store.engine.dialect.name != "postgresql":
        app[REPLICA] = app[LEASES] = None
        yield
        return
    # psycopg is the PostgreSQL extra's: imported only when the database is PostgreSQL.
    from assistant.replicas.bus import Bus, libpq_dsn

    replica = app[REPLICA] = Replica(replica_name(), settings.lease_s)
    dsn, tasks = libpq_dsn(settings.database_url), Tasks()
    service = app[JOBS]
    service.leading = False

    async def announce(job_id: int) -> None:
        await store.write(lambda s: leases.wake(s, "job", [job_id]))

    service.announce = announce
    rearming = asyncio.Lock()
    handlers = {"handled": app[HANDLED].fire, "job": lambda ids: tasks.spawn(_rearm(service, ids, rearming))}
    bus = Bus(dsn, replica.name, handlers, lambda: _catch_up(app))
    held = app[LEASES] = Leases(store, replica, app[CLOCK])
    heartbeat = Heartbeat(held, lambda chat_id: _route(app, chat_id), lambda: _wake_sender(app))
    running = [
        asyncio.create_task(bus.run(), name="replica-bus"),
        asyncio.create_task(heartbeat.run(), name="replica-heartbeat"),
    ]
    logger.info("replica %s: chats held for %g s at a time", replica.name, replica.lease_s)
    yield
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    await tasks.cancel()
    try:
        await leases.release(store, replica)
    except Exception:
        logger.exception("letting this replica's leases go failed; they run out in %g s", replica.lease_s)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """The scheduler's start: at once on SQLite; on PostgreSQL when this replica takes the lock."""
    replica, service = app[REPLICA], app[JOBS]
    if replica is None:
        count = await service.start()
        logger.info("scheduler started with %d jobs", count)
        yield
        service.stop()
        return
    from assistant.replicas.bus import libpq_dsn
    from assistant.replicas.leader import Leader

    dsn = libpq_dsn(app[SETTINGS].database_url)
    leader = Leader(dsn, replica.name, service.lead, service.follow, check_s=replica.lease_s / 3)
    task = asyncio.create_task(leader.run(), name="scheduler-leader")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    service.stop()
