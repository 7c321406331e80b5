"""Ingest benchmark: signed WhatsApp webhooks at N concurrent connections against a real `hearth serve`
and, in the same run, against a bare aiohttp server. Run: `python -m tests.bench.ingest`.

Hearth stores every message durably before it answers 200. The senders are strangers and
HEARTH_STRANGERS=ignore, so after the acknowledgement each message costs one access check and no
model call: the figures are about accepting, not answering. The last line is one JSON object.

The load comes from wrk (Debian's package `wrk`) when it is installed, pinned to one CPU with the
server on the other: a C load generator, so the bare server's figure is the server's and not the
client's. Every request carries its own message id (a repeated one is answered without being stored),
signed beforehand because wrk's Lua has no HMAC: `ingest.lua` cycles through a file of signed
requests and says how many it had to repeat. Without wrk (or with `--generator python`) an aiohttp
client in this process sends a fixed number of requests instead; it saturates before the bare
server does, which flatters the ratio, and the output says which generator ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
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
from tests.conftest import AUTH
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.process import Server, free_port, hearth_env

SENDERS = 20
LUA = Path(__file__).with_name("ingest.lua")


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
    requests: int = 0
    # Requests that repeated a message id already sent in this run (wrk only, when its file ran out).
    repeated: int = 0


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
    return Result(len(requests) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors, len(requests))


def write_requests(path: Path, requests: list[tuple[bytes, str]]) -> Path:
    """The file ingest.lua reads: one `signature<TAB>body` a line (JSON bodies hold no tab or newline)."""
    with path.open("wb") as out:
        for body, signature in requests:
            out.write(signature.encode() + b"\t" + body + b"\n")
    return path


async def wrk(url: str, requests_file: Path, connections: int, duration_s: float) -> Result:
    """Run wrk on the load generator's CPU against `url` for `duration_s`; its figures."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s:g}s", "--timeout", "10s"]
    command += ["-s", str(LUA), url, "--", str(requests_file)]
    if len(CPUS) >= 2 and shutil.which("taskset"):
        command = ["taskset", "-c", str(CPUS[0]), *command]
    proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {proc.returncode}: {out.decode()}")
    figures = json.loads(out.decode().strip().splitlines()[-1])
    rate_per_s = figures["requests"] / (figures["duration_us"] / 1e6)
    p50_ms, p99_ms = figures["p50_us"] / 1000, figures["p99_us"] / 1000
    return Result(rate_per_s, p50_ms, p99_ms, figures["errors"], figures["requests"], figures["repeated"])


async def accepted(url: str) -> int:
    """Hearth's own count of messages accepted (new, not repeated), from /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics", headers=AUTH) as response:
        text = await response.text()
    line = next(line for line in text.splitlines() if line.startswith("hearth_messages_accepted_total "))
    return int(float(line.split()[1]))


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


@dataclass(frozen=True)
class Plan:
    """How the load is made: wrk for `duration_s` from a file of signed requests, or the Python
    client sending `count` requests."""

    generator: str
    connections: int
    count: int
    duration_s: float
    requests_file: Path | None = None

    async def measure(self, url: str, requests: list[tuple[bytes, str]]) -> Result:
        if self.requests_file is not None:
            return await wrk(url, self.requests_file, self.connections, self.duration_s)
        return await load(url, requests, self.connections)


def hearth_settings(data_dir: Path, ollama_url: str, graph_url: str) -> dict[str, str]:
    return hearth_env(
        data_dir,
        ollama_url,
        HEARTH_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
        HEARTH_WHATSAPP_APP_SECRET=APP_SECRET,
        HEARTH_WHATSAPP_TOKEN=GRAPH_TOKEN,
        HEARTH_WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
        HEARTH_WHATSAPP_API_URL=graph_url,
        HEARTH_STRANGERS="ignore",
        HEARTH_LOG_LEVEL="error",
    )


async def run(plan: Plan) -> dict[str, float | int | str]:
    warmup = signed_requests(500, 0)
    measured = signed_requests(plan.count, len(warmup))
    with tempfile.TemporaryDirectory() as tmp:
        if plan.generator == "wrk":
            plan = replace(plan, requests_file=write_requests(Path(tmp) / "requests.tsv", measured))
        async with FakeOllama() as fake, GraphFake(token=GRAPH_TOKEN) as graph:
            server = Server(hearth_settings(Path(tmp) / "data", fake.url, graph.url), Path(tmp))
            # The server under test on one CPU, the load generator on the other, for both servers.
            pin(1)
            await server.start()
            pin(0)
            try:
                hook = f"{server.url}/webhooks/whatsapp"
                await load(hook, warmup, plan.connections)
                before = await accepted(server.url)
                hearth = await plan.measure(hook, measured)
                stored = await accepted(server.url) - before
            finally:
                await server.stop()
        pin(1)
        proc, url = await bare_server()
        pin(0)
        try:
            await load(f"{url}/webhooks/whatsapp", warmup, plan.connections)
            bare = await plan.measure(f"{url}/webhooks/whatsapp", measured)
        finally:
            proc.terminate()
            await proc.wait()
    return {
        "generator": plan.generator,
        "connections": plan.connections,
        "hearth_requests": hearth.requests,
        "hearth_repeated": hearth.repeated,
        # New messages Hearth stored during the measured load, by its own count: each answered request.
        "hearth_stored": stored,
        "bare_requests": bare.requests,
        "hearth_rate_per_s": round(hearth.rate_per_s, 1),
        "bare_rate_per_s": round(bare.rate_per_s, 1),
        "ratio": round(hearth.rate_per_s / bare.rate_per_s, 3),
        "hearth_ack_p50_ms": round(hearth.p50_ms, 2),
        "hearth_ack_p99_ms": round(hearth.p99_ms, 2),
        "bare_p50_ms": round(bare.p50_ms, 2),
        "bare_p99_ms": round(bare.p99_ms, 2),
        "hearth_errors": hearth.errors,
        "bare_errors": bare.errors,
    }


def choose(args: argparse.Namespace) -> Plan:
    """wrk when it is there (or asked for), else the Python client; says which on standard output."""
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
        if generator == "python":
            print("load: wrk is not installed (apt-get install wrk); using the Python client instead,")
            print("      which saturates before the bare server does and so flatters the ratio")
    elif generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--generator wrk, but wrk is not installed (apt-get install wrk)")
    if generator == "wrk":
        # Enough distinct message ids for the whole run even at several thousand a second.
        count = args.requests or int(args.duration_s * 8000)
        where = f"on CPU {CPUS[0]}, the servers on CPU {CPUS[1]}" if len(CPUS) >= 2 else "unpinned (one CPU)"
        print(f"load: wrk, 1 thread {where}, {args.duration_s:g} s per server, {count} signed requests")
    else:
        count = args.requests or 5000
        print(f"load: the Python client, {count} requests per server")
    return Plan(generator, args.connections, count, args.duration_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--requests", type=int, default=0, help="signed requests made (0: to suit the generator)"
    )
    parser.add_argument("--duration-s", type=float, default=10.0, help="how long wrk loads each server")
    parser.add_argument("--connections", type=int, default=100)
    figures = asyncio.run(run(choose(parser.parse_args())))
    print(
        f"hearth: {figures['hearth_rate_per_s']} webhooks/s  (ack p50 {figures['hearth_ack_p50_ms']} ms, "
        f"p99 {figures['hearth_ack_p99_ms']} ms, errors {figures['hearth_errors']})"
    )
    bare = f"{figures['bare_rate_per_s']} requests/s  (p50 {figures['bare_p50_ms']} ms"
    print(f"bare:   {bare}, p99 {figures['bare_p99_ms']} ms)")
    print(f"ratio:  {figures['ratio']}")
    print(
        f"stored: {figures['hearth_stored']} new messages for {figures['hearth_requests']} requests to Hearth"
    )
    if figures["hearth_repeated"]:
        print(
            f"note:   {figures['hearth_repeated']} requests to Hearth repeated a message id; raise --requests"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
