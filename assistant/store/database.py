"""The engine (SQLite in WAL mode with a busy timeout, or any URL SQLAlchemy knows) and the Store:
transactions run as plain functions on worker threads, off the event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from assistant.errors import HearthError
from assistant.store.migrate import current_revision, head_revision, migrate

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
LOCKED_RETRY_S = 0.5
# Writes on the loop's connection between two checkpoints of the WAL, which run on the writer
# thread: SQLite's own (every 1000 pages) would copy the log into the file on the event loop,
# stalling every chat for several milliseconds.
CHECKPOINT_EVERY = 200
# Drivers Hearth used to name for asyncio; the store runs sync drivers in worker threads.
_SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql+psycopg"}


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def set_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return set_pragmas


def locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite giving up on a lock another connection held past the busy timeout."""
    return isinstance(exc, sa.exc.OperationalError) and "database is locked" in str(exc.orig)


def sync_url(url: str) -> sa.URL:
    parsed = sa.make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def create_engine(url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sa.Engine:
    """An engine for `url`; for SQLite the file's directory is created and the pragmas set, a
    write waiting up to `busy_timeout_ms` for another process's lock before it fails."""
    parsed = sync_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, pool_size=4, max_overflow=4)
    sa.event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    return engine


T = TypeVar("T")
Work = Callable[[Session], T]


class Store:
    """Access to the database.

    A transaction is a function of a Session: one hop off the event loop per transaction instead
    of one per statement, which is what an async driver costs. Writes are serialised (SQLite wants
    one writer anyway), so a read-then-insert step inside one is free of races. For SQLite they run
    inline and fall back to a single writer thread; other databases use that thread for writes and
    a small pool for reads.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        # A read of a local SQLite file in WAL mode never waits for a lock and takes well under a
        # millisecond: it runs inline, since a thread would cost more (the worker waits for the GIL
        # behind a busy event loop; a hop costs more than the transaction itself). A write runs
        # inline too, unless the file lock is held by another process: then it is rolled back at
        # once and run again on the writer thread, where waiting out the lock never stalls the loop.
        self.inline = engine.dialect.name == "sqlite"
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="hearth-db-write")
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="hearth-db-read")
        # Held by every write, so a transaction that awaits in its middle never meets another
        # writer on SQLite's lock (which would block the event loop for the busy timeout).
        self._write_lock = asyncio.Lock()
        # The loop's own connections (SQLite): one to read, one to write without waiting for the
        # lock; held for good, so a transaction on the loop checks nothing out of the pool.
        self._loop_reads: sa.Connection | None = None
        self._loop_writes: sa.Connection | None = None
        # A Session on each, made once and closed after every transaction: making one costs about
        # twice what closing and reusing it does. Safe on the loop, where one transaction runs at a
        # time (work is a plain function: it cannot start another while it runs).
        self._read_session: Session | None = None
        self._write_session: Session | None = None
        self._since_checkpoint = 0
        self._checkpointing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Store:
        """Connect to `url` and apply any pending migrations."""
        engine = await asyncio.to_thread(create_engine, url, busy_timeout_ms)
        await asyncio.to_thread(migrate, engine)
        return cls(engine)

    async def close(self) -> None:
        if self._checkpointing is not None:
            # Never raises: a failed checkpoint was logged, and a cancelled one is no error here.
            await asyncio.wait([self._checkpointing])
        for connection in (self._loop_reads, self._loop_writes):
            if connection is not None:
                connection.close()
        self._loop_reads = self._loop_writes = None
        self._read_session = self._write_session = None
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        await asyncio.to_thread(self.engine.dispose)

    def _read(self, work: Work[T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session:
            return work(session)

    def _read_inline(self, work: Work[T]) -> T:
        if self._loop_reads is None or self._loop_reads.invalidated or self._read_session is None:
            self._loop_reads = self.engine.connect()
            self._read_session = Session(self._loop_reads, expire_on_commit=False)
        try:
            return work(self._read_session)
        finally:
            self._read_session.close()

    def _write(self, work: Work[T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            return work(session)

    def _write_unless_locked(self, work: Work[T]) -> T:
        """`_write` without waiting for SQLite's lock: OperationalError (`locked`) if another
        process holds it, the transaction rolled back whole."""
        if self._loop_writes is None or self._loop_writes.invalidated or self._write_session is None:
            self._loop_writes = self.engine.connect()
            sqlite = self._loop_writes.connection.driver_connection
            assert sqlite is not None
            sqlite.execute("PRAGMA busy_timeout=0")
            sqlite.execute("PRAGMA wal_autocheckpoint=0")
            self._write_session = Session(self._loop_writes, expire_on_commit=False)
        try:
            result = work(self._write_session)
            self._write_session.commit()
        finally:
            self._write_session.close()  # rolls back whatever was not committed
        self._count_for_checkpoint()
        return result

    def _count_for_checkpoint(self) -> None:
        self._since_checkpoint += 1
        busy = self._checkpointing is not None and not self._checkpointing.done()
        if self._since_checkpoint >= CHECKPOINT_EVERY and not busy:
            self._since_checkpoint = 0
            self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        """Copy the WAL into the database file on the writer thread: the bulk while writes go on,
        then what they added meanwhile with writes held back, so that the log is wholly copied
        and the next write starts it over (under a steady load it would otherwise only grow)."""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._writer, self._checkpoint_wal)
            async with self._write_lock:
                await loop.run_in_executor(self._writer, self._checkpoint_wal)
        except Exception:
            logger.warning("checkpointing the database's log failed; trying again later", exc_info=True)

    def _checkpoint_wal(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def read(self, work: Work[T]) -> T:
        """Run `work(session)` for reading and return what it returns."""
        if self.inline:
            return self._read_inline(work)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read, work)

    async def write(self, work: Work[T], *, alongside: bool = False) -> T:
        """Run `work(session)` in one transaction, committed when it returns without raising. On
        SQLite `work` may run twice (the first try rolled back whole, as the lock was taken): it
        must change nothing outside its session. With `alongside` it runs on the writer thread
        whatever the database, so that the event loop goes on meanwhile: for a large write, whose
        time in SQLite (which lets go of the GIL) outweighs the hop."""
        async with self._write_lock:
            if self.inline and not alongside:
                try:
                    return self._write_unless_locked(work)
                except sa.exc.OperationalError as exc:
                    if not locked(exc):
                        raise
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._writer, self._write, work)

    async def write_waiting(self, work: Work[T]) -> T:
        """`write`, tried again for as long as another process holds SQLite's lock: for a record
        that must not be dropped, such as a send the provider has already accepted. `work` must be
        safe to run again (a locked transaction is rolled back whole). Other errors propagate."""
        warned = False
        while True:
            try:
                return await self.write(work)
            except sa.exc.OperationalError as exc:
                if not locked(exc):
                    raise
                if not warned:
                    logger.warning("the database is locked by another program; waiting to write")
                    warned = True
                await asyncio.sleep(LOCKED_RETRY_S)


URL_VARIABLE = "HEARTH_MIGRATE_URL"


def migrate_apart(url: str) -> None:
    """`migrate` in a child process when the schema is behind: the server then never loads Alembic,
    which would stay in its memory for good (about 10 MB) for work done once at start."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if current_revision(conn) == head_revision():
                return
    finally:
        engine.dispose()
    child = [sys.executable, "-c", "from assistant.store.database import main; main()"]
    done = subprocess.run(child, env={**os.environ, URL_VARIABLE: url}, check=False)
    if done.returncode != 0:
        raise HearthError(f"migrating the database failed (exit {done.returncode}); see the error above")


def main() -> None:
    """The child of `migrate_apart`: the database's URL comes in HEARTH_MIGRATE_URL, not argv."""
    engine = create_engine(os.environ[URL_VARIABLE])
    try:
        migrate(engine)
    finally:
        engine.dispose()
