"""Replicas on one PostgreSQL database, measured: throughput with one replica and with three, how long
a killed replica's chat waits before another takes it over, and how long the scheduler goes without a
leader when its leader is killed.

Run from the repository root with a PostgreSQL server to create databases on (`.ci/postgres.sh`
starts one and prints its URL):

    HEARTH_TEST_POSTGRES_URL=postgresql+psycopg://hearth@127.0.0.1:55432/postgres \\
        python -m tests.bench.replicas --lease-s 3 --runs 3

Everything talks only to servers this script starts on 127.0.0.1 and to that database server.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.faults.tally import answered_texts
from tests.postgres import fresh_database
from tests.replicas.cluster import Cluster


@asynccontextmanager
async def cluster(replicas: int, chats: int, lease_s: float) -> AsyncIterator[Cluster]:
    with tempfile.TemporaryDirectory() as tmp, fresh_database("hearth_bench") as url:
        async with Cluster(Path(tmp), url, replicas, chats, HEARTH_LEASE_S=f"{lease_s:g}") as c:
            await c.start_all()
            yield c


async def throughput(replicas: int, chats: int, per_chat: int, lease_s: float) -> float:
    """Messages answered per second, webhooks spread over the replicas, each chat sending its next
    message once the last is acknowledged."""
    async with cluster(replicas, chats, lease_s) as c:
        texts = [f"c{n}-m{m}" for n in range(chats) for m in range(per_chat)]
        begun = time.perf_counter()

        async def chat(n: int) -> None:
            for m in range(per_chat):
                await c.say(n, f"c{n}-m{m}")

        await asyncio.gather(*(chat(n) for n in range(chats)))
        await c.settle(texts, quiet_s=0)
        return len(texts) / (time.perf_counter() - begun)


async def takeover_s(lease_s: float) -> float:
    """From the SIGKILL of the replica running a chat's turn to that chat's answer from another."""
    async with cluster(2, 1, lease_s) as c:
        c.model.held.clear()
        await c.say(0, "c0-m0", replica=0)
        while not c.ollama.in_flight:
            await asyncio.sleep(0.01)
        killed = time.perf_counter()
        await c.kill(0)
        c.model.held.set()
        while not any("c0-m0" in answered_texts(s.text) for s in c.graph.sends()):
            await asyncio.sleep(0.02)
        return time.perf_counter() - killed


async def leader_s(lease_s: float) -> float:
    """From the SIGKILL of the scheduler's leader to another replica holding the lock."""
    async with cluster(3, 1, lease_s) as c:
        pid = await c.leader_pid()
        killed = time.perf_counter()
        await c.kill(next(i for i in range(3) if c.pid(i) == pid))
        while await c.leader_pid() == pid:
            await asyncio.sleep(0.01)
        return time.perf_counter() - killed


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"


async def main(args: argparse.Namespace) -> None:
    for replicas in (1, 3):
        rate = await throughput(replicas, args.chats, args.per_chat, args.lease_s)
        print(f"{replicas} replica(s), {args.chats} chats x {args.per_chat} messages: {rate:.0f} msg/s")
    takeovers = [await takeover_s(args.lease_s) for _ in range(args.runs)]
    print(
        f"a killed replica's chat answered by another (HEARTH_LEASE_S={args.lease_s:g}): {spread(takeovers)}"
    )
    leaders = [await leader_s(args.lease_s) for _ in range(args.runs)]
    print(f"a new scheduler leader after the leader's SIGKILL: {spread(leaders)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lease-s", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chats", type=int, default=30)
    parser.add_argument("--per-chat", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
