"""Writes on SQLite: inline while the file is free, waited out off the event loop while another
process holds its lock, and never half done."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, col, select

from assistant.store import Store, database
from assistant.store.tables import Chat
from tests.store.test_batch import NOW


def add_chats(addresses: list[str]) -> tuple[list[Chat], Callable[[Session], list[int]]]:
    chats = [Chat(channel="console", address=a, created_at=NOW) for a in addresses]

    def work(session: Session) -> list[int]:
        for chat in chats:
            session.add(chat)
            session.flush()
        return [c.id or 0 for c in chats]

    return chats, work


async def ticks_while(task: asyncio.Task[list[int]], step_s: float = 0.01) -> float:
    """The longest the event loop went without running this coroutine while `task` ran."""
    worst, last = 0.0, time.perf_counter()
    while not task.done():
        await asyncio.sleep(step_s)
        now = time.perf_counter()
        worst, last = max(worst, now - last - step_s), now
    return worst


async def test_a_write_waits_out_another_process_lock_without_stalling_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    store = await Store.open(f"sqlite:///{db}")
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    chats, work = add_chats(["a", "b"])
    writing = asyncio.create_task(store.write(work))
    asyncio.get_running_loop().call_later(0.5, other.execute, "COMMIT")
    stalled_s = await ticks_while(writing)
    ids = await writing
    stored = await store.read(lambda s: list(s.exec(select(Chat).order_by(col(Chat.id)))))
    await store.close()
    other.close()
    assert stalled_s < 0.2
    assert [c.address for c in stored] == ["a", "b"]
    assert ids == [c.id for c in stored] == [c.id for c in chats]


async def test_a_write_on_a_free_file_commits_at_once(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    _, work = add_chats(["a"])
    ids = await store.write(work)
    other = sqlite3.connect(tmp_path / "h.db")
    seen = other.execute("SELECT id, address FROM chat").fetchall()
    other.close()
    await store.close()
    assert seen == [(ids[0], "a")]


async def test_the_log_stays_small_under_many_writes(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    for n in range(database.CHECKPOINT_EVERY * 10):
        _, work = add_chats([f"chat{n}"])
        await store.write(work)
        await asyncio.sleep(0)
    wal_bytes = (tmp_path / "h.db-wal").stat().st_size
    count = await store.read(lambda s: len(s.exec(select(Chat.id)).all()))
    await store.close()
    assert count == database.CHECKPOINT_EVERY * 10
    # Each write adds a few pages to the log; without checkpoints it would hold all 2000.
    assert wal_bytes < 4 * database.CHECKPOINT_EVERY * 4096
