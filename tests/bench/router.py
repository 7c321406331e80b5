"""Router benchmark: N chats x M messages through the HTTP API of a real `hearth serve`.

The model is the fake Ollama in its own process, answering at once. For each message the client
posts it, then long-polls until it is handled; the latency is from the 202 (accepted) to the reply
being ready. Prints latency percentiles, messages per second, and the server's idle and loaded RSS;
the last line is one JSON object with the same figures.

    python -m tests.bench.router [--chats 50] [--messages 20] [--interval-s 0] [--max-turns 2]

With no pause the chats send as fast as they are answered, which measures throughput and makes
the latency mostly queueing; `--interval-s` offers a steady load below saturation instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from tests.conftest import AUTH
from tests.process import Server, free_port, hearth_env


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


async def start_fake_ollama() -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.ollama", "--port", str(port), stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    await proc.stdout.readline()
    return proc, f"http://127.0.0.1:{port}"


async def one_chat(
    http: aiohttp.ClientSession, url: str, chat: str, count: int, interval_s: float = 0.0
) -> list[float]:
    latencies: list[float] = []
    for n in range(count):
        await asyncio.sleep(interval_s)
        body = {"chat": chat, "text": f"message {n}"}
        async with http.post(f"{url}/v1/messages", json=body, headers=AUTH) as response:
            message_id = (await response.json())["id"]
        accepted = time.perf_counter()
        async with http.get(f"{url}/v1/messages/{message_id}?wait=10", headers=AUTH) as response:
            view = await response.json()
        assert view["status"] == "handled", view
        latencies.append(time.perf_counter() - accepted)
    return latencies


async def sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb(pid))
        await asyncio.sleep(0.05)


async def bench(chats: int, messages: int, interval_s: float, max_turns: int) -> dict[str, float]:
    fake, fake_url = await start_fake_ollama()
    with tempfile.TemporaryDirectory() as tmp:
        env = hearth_env(Path(tmp) / "data", fake_url, HEARTH_MAX_CONCURRENT_TURNS=str(max_turns))
        server = Server(env, Path(tmp))
        await server.start()
        assert server.proc is not None
        await asyncio.sleep(1.0)
        idle = rss_mb(server.proc.pid)
        peak, stop = [idle], asyncio.Event()
        sampler = asyncio.create_task(sample_rss(server.proc.pid, peak, stop))
        connector = aiohttp.TCPConnector(limit=chats * 2)
        async with aiohttp.ClientSession(connector=connector) as http:
            await one_chat(http, server.url, "warm-up", 5)
            began = time.perf_counter()
            results = await asyncio.gather(
                *(one_chat(http, server.url, f"chat{k}", messages, interval_s) for k in range(chats))
            )
            elapsed = time.perf_counter() - began
        stop.set()
        await sampler
        await server.stop()
    fake.terminate()
    await fake.wait()
    latencies = [value for chat in results for value in chat]
    return {
        "chats": chats,
        "interval_s": interval_s,
        "max_concurrent_turns": max_turns,
        "messages": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "idle_rss_mb": round(idle, 1),
        "loaded_rss_mb": round(peak[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument(
        "--interval-s", type=float, default=0.0, help="pause per chat between an answer and the next message"
    )
    parser.add_argument("--max-turns", type=int, default=2, help="HEARTH_MAX_CONCURRENT_TURNS")
    args = parser.parse_args()
    figures = asyncio.run(bench(args.chats, args.messages, args.interval_s, args.max_turns))
    print(f"{figures['messages']:.0f} messages over {figures['chats']:.0f} chats")
    print(f"accepted -> reply ready: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    print(f"throughput: {figures['messages_per_s']} messages/s")
    print(f"server RSS: idle {figures['idle_rss_mb']} MB, loaded {figures['loaded_rss_mb']} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
