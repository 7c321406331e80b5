"""The Store: one engine, sessions for reading, and serialised transactions for writing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from assistant.store.db import create_engine, sessionmaker
from assistant.store.migrate import migrate
from assistant.store.writelock import WriteLock


class Store:
    """Access to the database. Writes from this process are serialised, which SQLite wants anyway
    (one writer at a time) and which keeps read-then-insert steps free of races."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine)
        self._write_lock = WriteLock()

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to `url` and apply any pending migrations."""
        engine = create_engine(url)
        await migrate(engine)
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction, committed when the block ends without an exception; `urgent` writers
        (a webhook waiting to acknowledge) go before those already queued."""
        async with self._write_lock.hold(urgent=urgent), self._sessions() as session, session.begin():
            yield session
