"""Three replicas on one PostgreSQL database, webhooks spread over all of them, one SIGKILLed mid-run
and started again: every message answered exactly once, in order within each chat; reminders due
while the scheduler's leader is dead delivered once each by the next leader."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.jobs.rules import new_job
from assistant.jobs.triggers import parse_trigger
from assistant.store import Store, inbox, jobs, leases
from assistant.types import Address, Inbound
from tests.faults.rig import address
from tests.faults.tally import count
from tests.postgres import REQUIRED, postgres_url
from tests.process import run_hearth
from tests.replicas.cluster import Cluster

__all__ = ["postgres_url"]

CHATS = 30
PER_CHAT = 10
LEASE_S = "3"
IPTABLES = shutil.which("iptables")


async def test_a_replica_killed_mid_run_loses_nothing_and_answers_nothing_twice(
    tmp_path: Path, postgres_url: str
) -> None:
    async with Cluster(tmp_path, postgres_url, replicas=3, chats=CHATS, HEARTH_LEASE_S=LEASE_S) as c:
        await c.start_all()
        _, out, _ = await run_hearth("doctor", env=c.env(), cwd=tmp_path)
        assert "[ok  ] replicas: 3 running" in out
        assert "[ok  ] leader: the scheduler runs on" in out

        async def chat(n: int) -> None:
            for m in range(PER_CHAT):
                await c.say(n, f"c{n}-m{m}")

        talking = asyncio.gather(*(chat(n) for n in range(CHATS)))
        while len(c.acked) < CHATS * PER_CHAT // 3:
            await asyncio.sleep(0.02)
        await c.kill(1)
        await asyncio.sleep(1.0)
        await c.start(1)
        await talking
        await c.settle(c.acked)
        _, out, _ = await run_hearth("doctor", env=c.env(), cwd=tmp_path)
        books = await c.books()

    tally = count("replicas", c.acked, [r.text for r in books.replies], books.sends, c.kills_at_s)
    assert (tally.messages, tally.lost, tally.answered_twice, tally.replies_lost) == (300, 0, 0, 0), tally
    assert tally.broken == 0, tally
    assert [m.id for m in books.messages if m.status != "handled"] == []
    # The killed replica's leases ran out and were cleared; the one started again runs beside the rest.
    assert "[ok  ] replicas: 3 running" in out
    assert "[ok  ] leases: " in out
    for n in range(CHATS):
        wanted = [f"c{n}-m{m}" for m in range(PER_CHAT)]
        assert books.stored_order(n) == wanted
        assert books.sent_order(n) == wanted


async def _reminders(database_url: str, due_at: list[datetime]) -> None:
    """A chat, and one reminder at each of the times, announced to the leader the way a replica
    announces a job it made."""
    store = await Store.open(database_url)
    try:
        now = datetime.now(UTC)
        sender = Address("whatsapp", f"+{address(0)}")
        [accepted] = await inbox.accept(store, [Inbound("whatsapp", "wamid.seed", sender, "hi", now)], now)
        ids: list[int] = []
        for n, at in enumerate(due_at):
            spec = parse_trigger(at.isoformat(), None, None, "UTC", now)
            job = new_job(accepted.chat_id, "reminder", f"stretch {n}", spec, 3600, "test")
            ids.append((await jobs.add(store, job)).id or 0)
        await store.write(lambda s: leases.wake(s, "job", ids))
    finally:
        await store.close()


async def test_reminders_due_while_the_leader_is_dead_are_each_delivered_once(
    tmp_path: Path, postgres_url: str
) -> None:
    expected = [f"stretch {n}" for n in range(50)]
    async with Cluster(tmp_path, postgres_url, replicas=3, chats=1, HEARTH_LEASE_S=LEASE_S) as c:
        await c.start_all()
        leader_pid = await c.leader_pid()
        leader = next(i for i in range(3) if c.pid(i) == leader_pid)
        others = [i for i in range(3) if i != leader]
        # Due every 40 ms over 2 s from 4 s on. The leader dies 1 s in (some sent, one maybe in
        # flight); the others are paused meanwhile, so the rest fall due with no leader at all.
        first = datetime.now(UTC) + timedelta(seconds=4)
        due_at = [first + timedelta(seconds=0.04 * n) for n in range(50)]
        await _reminders(postgres_url, due_at)
        await _until(first + timedelta(seconds=0.9))
        for replica in others:
            c.pause(replica)
        await _until(first + timedelta(seconds=1.0))
        await c.kill(leader)
        killed_at = datetime.now(UTC)
        await _until(first + timedelta(seconds=2.5))
        sent_before = len(c.graph.sends())
        for replica in others:
            c.resume(replica)
        async with asyncio.timeout(60):
            while not set(expected) <= {_what(s.text) for s in c.graph.sends()}:
                await asyncio.sleep(0.1)
        new_leader = await c.leader_pid()
        await asyncio.sleep(1.0)
        books = await c.books()

    assert new_leader != leader_pid
    assert sent_before < 50
    stored = sorted(_what(r.text) for r in books.replies if "stretch" in r.text)
    assert stored == sorted(expected)
    # Those due with no leader went out late, written by the new leader's catch-up.
    late = {_what(r.text) for r in books.replies if "late" in r.text}
    dead = {f"stretch {n}" for n, at in enumerate(due_at) if at > killed_at}
    assert dead
    assert dead <= late
    copies = Counter(_what(s.text) for s in books.sends if "stretch" in s.text)
    assert set(copies) == set(expected)
    # At most the one send in flight when the leader died goes out again.
    assert sum(copies.values()) - len(expected) <= 1


async def _until(at: datetime) -> None:
    await asyncio.sleep(max((at - datetime.now(UTC)).total_seconds(), 0))


def _what(reminder: str) -> str:
    """A reminder's own text, without "Reminder: " or "Reminder (late: …): " before it."""
    return reminder.rsplit(": ", 1)[-1]


@contextlib.contextmanager
def cut_off(port: int) -> Iterator[None]:
    """Every packet to and from a local TCP port dropped, as if the machine behind it had died: the
    server gets no close and no reset, only silence."""
    assert IPTABLES is not None
    rules = [
        ["INPUT", "-i", "lo", "-p", "tcp", flag, str(port), "-j", "DROP"] for flag in ("--sport", "--dport")
    ]
    inserted: list[list[str]] = []
    try:
        for rule in rules:
            subprocess.run([IPTABLES, "-I", *rule], check=True)
            inserted.append(rule)
        yield
    finally:
        for rule in inserted:
            subprocess.run([IPTABLES, "-D", *rule], check=False)


async def _leader_port(store: Store, pid: int) -> int:
    query = sa.text(
        "SELECT client_port FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name LIKE :name"
    )
    port = await store.read(
        lambda s: s.connection().execute(query, {"name": f"hearth leader %:{pid}:%"}).scalar()
    )
    assert isinstance(port, int), port
    return port


async def test_a_leader_whose_machine_vanishes_hands_the_scheduler_on_within_seconds(
    tmp_path: Path, postgres_url: str
) -> None:
    if os.geteuid() != 0 or IPTABLES is None:
        if REQUIRED:
            pytest.fail("cutting a connection off takes iptables and root")
        pytest.skip("cutting a connection off takes iptables and root")
    # A 6 s lease: the lock's connection is checked every 2 s, and probed after 2 s of quiet.
    async with Cluster(tmp_path, postgres_url, replicas=2, chats=1, HEARTH_LEASE_S="6") as c:
        await c.start_all()
        old = await c.leader_pid()
        store = await Store.open(postgres_url)
        try:
            with cut_off(await _leader_port(store, old)):
                await c.kill(next(i for i in range(2) if c.pid(i) == old))
                killed = time.monotonic()
                async with asyncio.timeout(30):
                    while (name := await leases.leader(store)) is None or f":{old}:" in name:
                        await asyncio.sleep(0.2)
                took_s = time.monotonic() - killed
        finally:
            await store.close()
    assert int(name.split(":")[-2]) != old
    # The server probes after 2 s of quiet, then 3 times a second apart; the next try comes a second on.
    assert took_s < 12, took_s
