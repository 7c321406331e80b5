"""The Store: transactions run as plain functions on worker threads, off the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlmodel import Session

from assistant.store.db import create_engine
from assistant.store.migrate import migrate

# Only a type: importing SQLAlchemy's asyncio extension at run time needs greenlet.
if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")
Work = Callable[[Session], T]


class Store:
    """Access to the database.

    A transaction is a function of a Session: one hop off the event loop per transaction instead
    of one per statement, which is what an async driver costs. Writes run on a single thread, so
    they are serialised (SQLite wants one writer anyway) and a read-then-insert step inside one is
    free of races; reads run on their own small pool, or inline for SQLite.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        # A read of a local SQLite file in WAL mode never waits for a lock and takes well under a
        # millisecond: it runs inline, since a thread would cost more (the worker waits for the GIL
        # behind a busy event loop). A write can wait for the file lock held by another process,
        # so writes always run on the writer thread, where a wait never stalls the event loop.
        self.inline_reads = engine.dialect.name == "sqlite"
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="hearth-db-write")
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="hearth-db-read")
        # Held by every write, so a transaction that awaits in its middle never meets another
        # writer on SQLite's lock (which would block the event loop for the busy timeout).
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to `url` and apply any pending migrations."""
        engine = await asyncio.to_thread(create_engine, url)
        await asyncio.to_thread(migrate, engine)
        return cls(engine)

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        await asyncio.to_thread(self.engine.dispose)

    def _read(self, work: Work[T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session:
            return work(session)

    def _write(self, work: Work[T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            return work(session)

    async def read(self, work: Work[T]) -> T:
        """Run `work(session)` for reading and return what it returns."""
        if self.inline_reads:
            return self._read(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read, work)

    async def write(self, work: Work[T]) -> T:
        """Run `work(session)` in one transaction, committed when it returns without raising."""
        async with self._write_lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._writer, self._write, work)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session with AsyncSession's methods, for code written in that style."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield cast("AsyncSession", _Awaitable(session, self._run_read))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Like `session()`, inside one transaction committed when the block ends cleanly. Every
        statement, the commit and the close run on the writer thread, like `write(work)`."""
        async with self._write_lock:
            session = Session(self.engine, expire_on_commit=False)
            try:
                yield cast("AsyncSession", _Awaitable(session, self._run_write))
                await self._run_write(session.commit)
            except BaseException:
                await self._run_write(session.rollback)
                raise
            finally:
                await self._run_write(session.close)

    async def _run_read(self, call: Callable[[], T]) -> T:
        if self.inline_reads:
            return call()
        return await asyncio.get_running_loop().run_in_executor(self._readers, call)

    async def _run_write(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, call)


class _Awaitable:
    """A sync Session whose query methods can be awaited, as AsyncSession's are; each call runs
    where `run` puts it."""

    _PLAIN = frozenset({"add", "add_all", "expunge", "expunge_all", "in_transaction", "is_modified"})

    def __init__(self, session: Session, run: Callable[[Callable[[], Any]], Awaitable[Any]]) -> None:
        self._session = session
        self._run = run

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._session, name)
        if name in self._PLAIN or not callable(attribute):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._run(functools.partial(attribute, *args, **kwargs))

        return call
