"""Scheduler benchmark: start-up with 10,000 jobs over 1,000 chats, and firing lateness under load.

Run from the repository root: `python -m tests.bench.scheduler`. The last line is one JSON object.
Everything talks only to servers this script starts on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import Session, col, select

from assistant.app import create_app
from assistant.jobs.rules import new_job
from assistant.jobs.service import JobService
from assistant.jobs.triggers import parse_trigger
from assistant.keys import ROUTER, STORE
from assistant.settings import Settings
from assistant.store import Store, inbox
from assistant.store.tables import Chat, Job
from assistant.types import Address, Inbound, Outbound
from tests.fakes.ollama import FakeOllama

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
CHANNEL = "bench"
GAP_MS = 50


class RecordingChannel:
    """Delivers nothing; notes when each reminder reply reached it."""

    name = CHANNEL

    def __init__(self) -> None:
        self.lateness_s: list[float] = []

    async def send(self, reply: Outbound) -> str | None:
        if "due_at" in reply.meta:
            due_at = datetime.fromisoformat(reply.meta["due_at"])
            self.lateness_s.append((datetime.now(UTC) - due_at).total_seconds())
        return None


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def background_job(chat_id: int, n: int, now: datetime, rng: random.Random) -> Job:
    """One of the many jobs that are not due during the run."""
    zone = ZONES[n % len(ZONES)]
    kind = ("at", "every", "cron")[n % 3]
    at = (now + timedelta(days=rng.randint(1, 300), minutes=rng.randint(0, 1439))).isoformat()
    every = f"{rng.randint(2, 48)}h"
    cron = f"{rng.randint(0, 59)} {rng.randint(0, 23)} * * {rng.choice(['*', 'mon-fri', '0', '6,0'])}"
    spec = parse_trigger(at if kind == "at" else None, every if kind == "every" else None,
                         cron if kind == "cron" else None, zone, now)  # fmt: skip
    task = n % 4 == 0
    return new_job(chat_id, "task" if task else "reminder", f"job {n}", spec, 3600, "bench")


async def fill(url: str, chats: int, jobs: int, probes: int, probe_at: datetime) -> None:
    """Write the chats and jobs; `probes` reminders fall due 10 ms apart from `probe_at`."""
    store = await Store.open(url)
    now, rng = datetime.now(UTC), random.Random(5)

    def write(session: Session) -> None:
        rows = [
            Chat(channel=CHANNEL, address=str(Address(CHANNEL, f"u{i}")), created_at=now)
            for i in range(chats)
        ]
        session.add_all(rows)
        session.flush()
        ids = [c.id or 0 for c in rows]
        for n in range(jobs - probes):
            session.add(background_job(ids[n % chats], n, now, rng))
        for n in range(probes):
            at = (probe_at + timedelta(milliseconds=10 * n)).isoformat()
            spec = parse_trigger(at, None, None, "UTC", now)
            session.add(new_job(ids[n * 7 % chats], "reminder", f"probe {n}", spec, 3600, "bench"))

    await store.write(write)
    await store.close()


async def keep_busy(app: web.Application, chats: int, stop: asyncio.Event, busy: list[int]) -> int:
    """Keep the router busy: 20 messages a second from many chats, each turn taking the model 0.2 s
    (more than the two turn slots can answer); `busy` samples the turns in flight."""
    sent = 0
    while not stop.is_set():
        now = datetime.now(UTC)
        batch = [
            Inbound(CHANNEL, f"m{sent + i}", Address(CHANNEL, f"u{(sent + i) % chats}"), "hi", now)
            for i in range(2)
        ]
        for accepted in await inbox.accept(app[STORE], batch, now):
            app[ROUTER].notify(accepted.chat_id)
        sent += len(batch)
        busy.append(app[ROUTER].in_flight)
        await asyncio.sleep(0.1)
    return sent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


async def run(chats: int, jobs: int, probes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/hearth.db"
        fill_started = time.perf_counter()
        await fill(url, chats, jobs, probes, datetime.now(UTC) + timedelta(seconds=60))
        fill_s = time.perf_counter() - fill_started
        async with FakeOllama(delay_s=0.2) as fake:
            settings = Settings(
                data_dir=Path(tmp), database_url=url, ollama_url=fake.url, log_level="warning"
            )
            channel = RecordingChannel()
            # The probes were written due a minute ahead; start the clock for them now by moving them.
            await shift_probes(url, probes)
            rss_before = rss_mb()
            runner = web.AppRunner(create_app(settings, channels=[channel]))
            started = time.perf_counter()
            await runner.setup()
            start_s = time.perf_counter() - started
            rss_after = rss_mb()
            stop, busy = asyncio.Event(), list[int]()
            feeder = asyncio.create_task(keep_busy(runner.app, chats, stop, busy))
            while len(channel.lateness_s) < probes and time.perf_counter() - started < 60:
                await asyncio.sleep(0.1)
            stop.set()
            messages = await feeder
            turns = len(fake.chat_requests)
            await runner.cleanup()
            jobs_mb = await scheduler_memory_mb(url)
    late = channel.lateness_s
    return {
        "chats": chats,
        "jobs": jobs,
        "fill_s": round(fill_s, 3),
        "start_s": round(start_s, 3),
        "probes_fired": len(late),
        "lateness_p50_ms": round(percentile(late, 0.5) * 1000, 1),
        "lateness_p99_ms": round(percentile(late, 0.99) * 1000, 1),
        "lateness_max_ms": round(max(late, default=float("nan")) * 1000, 1),
        "lateness_mean_ms": round(statistics.fmean(late) * 1000, 1) if late else None,
        "busy_messages": messages,
        "busy_turns": turns,
        "busy_share": round(sum(b == 2 for b in busy) / max(len(busy), 1), 2),
        "scheduler_memory_mb": round(jobs_mb, 1),
        "rss_before_start_mb": round(rss_before, 1),
        "rss_after_start_mb": round(rss_after, 1),
    }


async def shift_probes(url: str, probes: int) -> None:
    """Make the probes fall due from 3 s after now, 10 ms apart, so they fire while the router is busy."""
    store = await Store.open(url)
    first_at = datetime.now(UTC) + timedelta(seconds=3)

    def shift(session: Session) -> None:
        for job in session.exec(select(Job).where(col(Job.text).startswith("probe "))):
            due_at = first_at + timedelta(milliseconds=GAP_MS * int(job.text.split()[1]))
            job.trigger_value, job.next_run_at = due_at.isoformat(), due_at

    await store.write(shift)
    await store.close()


async def scheduler_memory_mb(url: str) -> float:
    """Memory the job service holds once it has armed every job (tracemalloc, Python objects)."""
    store = await Store.open(url)
    tracemalloc.start()
    service = JobService(store, clock=lambda: datetime.now(UTC), notify=lambda _: None, wake=lambda: None)
    await service.start()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    service.stop()
    await store.close()
    return held / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--gap-ms", type=int, default=50, help="between two probes' due times")
    args = parser.parse_args()
    global GAP_MS
    GAP_MS = args.gap_ms
    result = asyncio.run(run(args.chats, args.jobs, args.probes))
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
