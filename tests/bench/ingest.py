"""Ingest benchmark: signed WhatsApp webhooks at N concurrent connections against a real `hearth serve`
and, in the same run, against a bare aiohttp server. Run: `python -m tests.bench.ingest`.

Hearth stores every message durably before it answers 200. The senders are strangers and
HEARTH_STRANGERS=ignore, so after the acknowledgement each message costs one access check and no
model call: the figures are about accepting, not answering. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.channels.webhooks import (
    APP_SECRET,
    GRAPH_TOKEN,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    meta_signature,
    wa_body,
    wa_message,
)
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.process import Server, free_port, hearth_env

SENDERS = 20


CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def pin(index: int) -> None:
    """Run this thread, and the processes it starts from now on, on one CPU (when there are two)."""
    if len(CPUS) >= 2:
        os.sched_setaffinity(0, {CPUS[index]})


@dataclass(frozen=True)
class Result:
    rate_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def signed_requests(count: int, offset: int) -> list[tuple[bytes, str]]:
    """Bodies and signatures made before the clock starts, so the client spends its time sending."""
    made = []
    for n in range(offset, offset + count):
        item = wa_message(
            f"message {n}", wamid=f"wamid.BENCH{n:09d}", wa_id=f"4930{n % SENDERS:08d}", user_id=None
        )
        body = wa_body(item)
        made.append((body, meta_signature(body)))
    return made


async def load(url: str, requests: list[tuple[bytes, str]], connections: int) -> Result:
    """Send every request over `connections` concurrent keep-alive connections; time each one."""
    latencies: list[float] = []
    errors = 0
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=connections)

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        for body, signature in queue:
            headers = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
            began = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                errors += response.status != 200
            latencies.append(time.perf_counter() - began)

    async with aiohttp.ClientSession(connector=connector) as http:
        began = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return Result(len(requests) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors)


async def bare_server() -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.bench.hello", str(port))
    url = f"http://127.0.0.1:{port}"
    async with asyncio.timeout(20), aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{url}/healthz"):
                    return proc, url
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)


async def run(count: int, connections: int) -> dict[str, float | int]:
    warmup = signed_requests(500, 0)
    measured = signed_requests(count, len(warmup))
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeOllama() as fake, GraphFake(token=GRAPH_TOKEN) as graph:
            env = hearth_env(
                Path(tmp) / "data",
                fake.url,
                HEARTH_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
                HEARTH_WHATSAPP_APP_SECRET=APP_SECRET,
                HEARTH_WHATSAPP_TOKEN=GRAPH_TOKEN,
                HEARTH_WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
                HEARTH_WHATSAPP_API_URL=graph.url,
                HEARTH_STRANGERS="ignore",
                HEARTH_LOG_LEVEL="error",
            )
            server = Server(env, Path(tmp))
            # The server under test on one CPU, the load generator on the other, for both servers.
            pin(1)
            await server.start()
            pin(0)
            try:
                hook = f"{server.url}/webhooks/whatsapp"
                await load(hook, warmup, connections)
                hearth = await load(hook, measured, connections)
            finally:
                await server.stop()
        pin(1)
        proc, url = await bare_server()
        pin(0)
        try:
            await load(f"{url}/webhooks/whatsapp", warmup, connections)
            bare = await load(f"{url}/webhooks/whatsapp", measured, connections)
        finally:
            proc.terminate()
            await proc.wait()
    return {
        "requests": count,
        "connections": connections,
        "hearth_rate_per_s": round(hearth.rate_per_s, 1),
        "bare_rate_per_s": round(bare.rate_per_s, 1),
        "ratio": round(hearth.rate_per_s / bare.rate_per_s, 3),
        "hearth_ack_p50_ms": round(hearth.p50_ms, 2),
        "hearth_ack_p99_ms": round(hearth.p99_ms, 2),
        "bare_p50_ms": round(bare.p50_ms, 2),
        "bare_p99_ms": round(bare.p99_ms, 2),
        "hearth_errors": hearth.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    figures = asyncio.run(run(args.requests, args.connections))
    print(
        f"hearth: {figures['hearth_rate_per_s']} req/s  (ack p50 {figures['hearth_ack_p50_ms']} ms, "
        f"p99 {figures['hearth_ack_p99_ms']} ms, errors {figures['hearth_errors']})"
    )
    bare = f"{figures['bare_rate_per_s']} req/s  (p50 {figures['bare_p50_ms']} ms"
    print(f"bare:   {bare}, p99 {figures['bare_p99_ms']} ms)")
    print(f"ratio:  {figures['ratio']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
