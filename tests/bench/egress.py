"""The egress proxy's cost: how long it takes to start, and a fetch through it against a refusal.

Run from the repository root: `python -m tests.bench.egress [--calls N]`. The server fetched is
one this script starts on the host's address on Docker's default bridge, allowed as the owner
would allow a NAS. The last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

from aiohttp import web

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.manifest import load_manifest
from assistant.sandbox.runner import DockerSandbox
from tests.bench.sandbox import percentile
from tests.sandbox.docker_env import BASE_IMAGE, TEST_SKILLS_DIR, bridge_gateway, connect, ensure_test_image


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def measure(calls: int) -> dict[str, float]:
    client = connect()
    image, address = ensure_test_image(client), bridge_gateway(client)
    client.close()
    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, address, 0)
    await site.start()
    port = runner.addresses[0][1]
    beacon = load_manifest(TEST_SKILLS_DIR / "beacon")
    with tempfile.TemporaryDirectory() as workspaces:
        config = SandboxConfig(
            skills_dir=TEST_SKILLS_DIR,
            workspaces_dir=Path(workspaces),
            image=image,
            base_image=BASE_IMAGE,
            instance=f"hearth-bench-{uuid.uuid4().hex[:8]}",
            egress_allow=(address,),
        )
        sandbox = DockerSandbox(config, [beacon])
        began = time.perf_counter()
        await sandbox.start()
        start_ms = (time.perf_counter() - began) * 1000
        try:
            allowed, refused = [], []
            await sandbox.run(beacon, {"url": f"http://{address}:{port}/"}, "bench")  # warms the worker
            for _ in range(calls):
                began = time.perf_counter()
                assert (await sandbox.run(beacon, {"url": f"http://{address}:{port}/"}, "bench")) == "200 ok"
                allowed.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                assert (await sandbox.run(beacon, {"url": "http://10.1.2.3/"}, "bench")) == "403 refused"
                refused.append((time.perf_counter() - began) * 1000)
        finally:
            await sandbox.close()
            await runner.cleanup()
    return {
        "proxy_start_ms": round(start_ms),
        "fetch_p50_ms": round(percentile(allowed, 0.5), 1),
        "fetch_p99_ms": round(percentile(allowed, 0.99), 1),
        "refused_p50_ms": round(percentile(refused, 0.5), 1),
        "calls": calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    figures = asyncio.run(measure(parser.parse_args().calls))
    print(f"proxy start {figures['proxy_start_ms']} ms; fetch p50 {figures['fetch_p50_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
