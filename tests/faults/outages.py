"""Faults that last a while: the database locked by another process, the provider answering 500,
the model stalling mid-stream, the model down. Each function runs one fault once while a person
keeps writing in several chats, and returns its tally."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.faults.kills import until
from tests.faults.person import Conversation
from tests.faults.rig import Rig
from tests.faults.tally import Tally

# What a person sees while the model is down (assistant/pipeline.py's MODEL_DOWN), to count notices.
MODEL_DOWN_START = "The assistant's model is not available right now."


class Locker:
    """Another process, started ahead, that takes SQLite's exclusive lock on `db_path` when told
    and holds it for `lock_s`."""

    def __init__(self, db_path: Path, lock_s: float) -> None:
        self.db_path, self.lock_s = db_path, lock_s
        self.proc: asyncio.subprocess.Process | None = None

    async def ready(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tests.faults.locker", str(self.db_path), str(self.lock_s)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )

    async def lock(self) -> None:
        """Take the lock now; return once it is held."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()
        assert (await self.proc.stdout.readline()).strip() == b"locked"

    async def released(self) -> None:
        assert self.proc is not None
        assert await self.proc.wait() == 0


async def database_locked(tmp: Path, lock_s: float = 10, chats: int = 3) -> Tally:
    """Another process takes the database's exclusive lock for `lock_s` (longer than Hearth's
    busy timeout) just as the provider is about to accept a reply, then lets go. Messages keep
    coming during the lock, before it and after it."""
    async with Rig(tmp, chats=chats) as rig:
        locker = Locker(tmp / "data" / "hearth.db", lock_s)
        await rig.start()
        await locker.ready()
        async with Conversation(rig) as talk:
            await asyncio.sleep(1.0)
            texts = await talk.end()
        await rig.settle(texts)
        rig.graph.delay_s = 1.0
        attempts, sent = rig.graph.text_attempts, len(rig.graph.sent)
        await talk.person.say(0, "c0-x")
        await until(lambda: rig.graph.text_attempts > attempts)
        await locker.lock()
        # The send completes under the lock: writing it down is the first write that waits.
        await until(lambda: len(rig.graph.sent) > sent)
        rig.graph.delay_s = 0
        async with Conversation(rig, label="d") as talk_during:
            await locker.released()
            await asyncio.sleep(1.0)
            texts = [*talk.person.acked, *await talk_during.end()]
        await rig.settle(texts)
        tally = (await rig.books()).tally(f"database locked {lock_s:g} s", texts)
        tally.notes.append(f"{talk_during.person.redeliveries} webhook redeliveries")
        return tally


async def provider_down(tmp: Path, down_s: float = 5, chats: int = 3) -> Tally:
    """The provider answers every request with 500 for `down_s` while messages keep coming."""
    async with Rig(tmp, chats=chats) as rig:
        await rig.start()
        async with Conversation(rig, gap_s=0.5) as talk:
            await asyncio.sleep(0.5)
            rig.graph.failing = True
            await asyncio.sleep(down_s)
            rig.graph.failing = False
            texts = await talk.end()
        # Backoff doubles each attempt, so the last retry can come about as long after the end
        # of the outage as the outage lasted.
        await rig.settle(texts, timeout_s=2 * down_s + 60)
        return (await rig.books()).tally(f"provider 500 for {down_s:g} s", texts)


async def model_stalls(tmp: Path, chats: int = 3, every: int = 3) -> Tally:
    """Every `every`-th model answer goes silent after its first chunk, for longer than Hearth's
    stall timeout: the partial answer must never reach the person."""
    async with Rig(tmp, chats=chats, HEARTH_MODEL_STALL_TIMEOUT_S="0.5") as rig:
        rig.model.stall_every = every
        await rig.start()
        async with Conversation(rig, gap_s=0.5) as talk:
            await asyncio.sleep(4.0)
            texts = await talk.end()
        await rig.settle(texts, timeout_s=60)
        books = await rig.books()
        tally = books.tally("model stalls mid-stream", texts)
        tally.notes.append(f"{rig.model.answers // every} stalls")
        return tally


async def model_down(tmp: Path, down_s: float = 8, retry_s: float = 0.001, chats: int = 3) -> Tally:
    """Ollama answers 503 for `down_s` while messages come in, and Hearth is killed and started
    again half way. With HEARTH_MODEL_RETRY_S at `retry_s`, the retries double from there as they
    would from the default 5 s: at 0.001 s, 8 s hold about as many tries as 25 minutes would at the
    default, and at 0.00002 s, 60 s about as many as an hour. Each message gets one notice at most."""
    async with Rig(tmp, chats=chats, HEARTH_MODEL_RETRY_S=str(retry_s)) as rig:
        await rig.start()
        rig.ollama.down = True
        async with Conversation(rig, gap_s=1.0) as talk:
            await asyncio.sleep(down_s / 2)
            await rig.restart()
            await asyncio.sleep(down_s / 2)
            texts = await talk.end()
        rig.ollama.down = False
        await rig.settle(texts, timeout_s=down_s + 60)
        books = await rig.books()
        tally = books.tally(f"model down {down_s:g} s", texts)
        notices = sum(1 for r in books.replies if r.text.startswith(MODEL_DOWN_START))
        attempts = max((m.attempts for m in books.messages), default=0)
        tally.notes.append(f"{notices} notices, up to {attempts} tries of a message")
        if notices > tally.messages:
            tally.answered_twice += notices - tally.messages
            tally.notes.append("more notices than messages")
        return tally
