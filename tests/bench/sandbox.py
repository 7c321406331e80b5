"""Warm pool versus cold `docker run`: latency of a trivial skill call, p50 and p99 of each.

Run from the repository root: `python -m tests.bench.sandbox [--warm N] [--cold N]`.
The last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import tempfile
import time
from pathlib import Path

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.container import TMP_OPTIONS, WORKER_USER
from assistant.sandbox.manifest import SkillManifest, load_manifest
from assistant.sandbox.protocol import encode_request, parse_response
from assistant.sandbox.runner import DockerSandbox
from assistant.sandbox.worker import READY_ID
from tests.sandbox.docker_env import TEST_SKILLS_DIR, connect, ensure_test_image

WARM_P50_TARGET_MS = 20
SPEEDUP_TARGET = 15


def percentile(samples_ms: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples_ms` (fraction between 0 and 1)."""
    ordered = sorted(samples_ms)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def warm_samples(image: str, skill: SkillManifest, count: int) -> list[float]:
    """Milliseconds per call through the warm pool; the first call, which starts it, not counted."""
    with tempfile.TemporaryDirectory() as workspaces:
        config = SandboxConfig(workspaces_dir=Path(workspaces), image=image, instance="hearth-bench")
        sandbox = DockerSandbox(config)
        await sandbox.start()
        try:
            await sandbox.run(skill, {"i": -1}, "bench")
            samples = []
            for i in range(count):
                started = time.perf_counter()
                assert await sandbox.run(skill, {"i": i}, "bench") == json.dumps({"i": i})
                samples.append((time.perf_counter() - started) * 1000)
            return samples
        finally:
            await sandbox.close()


def cold_command(image: str, skill: SkillManifest) -> list[str]:
    """`docker run` with the same locks and limits the pool uses."""
    memory = f"{skill.limits.memory_mb}m"
    return [
        "docker", "run", "--rm", "-i", "--network", "none", "--read-only",
        "--tmpfs", f"/tmp:{TMP_OPTIONS}", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges:true", "--user", WORKER_USER,
        "--memory", memory, "--memory-swap", memory, "--cpus", str(skill.limits.cpus),
        "--pids-limit", str(skill.limits.pids), "--log-driver", "none",
        "-e", f"HEARTH_SKILL={skill.name}", image,
    ]  # fmt: skip


def cold_samples(image: str, skill: SkillManifest, count: int) -> list[float]:
    """Milliseconds per call when each call is its own `docker run`."""
    samples = []
    for i in range(count):
        request = encode_request(str(i), skill.name, {"i": i})
        started = time.perf_counter()
        done = subprocess.run(cold_command(image, skill), input=request, capture_output=True)
        samples.append((time.perf_counter() - started) * 1000)
        ready, answer = done.stdout.strip().splitlines()
        assert parse_response(ready, READY_ID) == ""
        assert parse_response(answer, str(i)) == json.dumps({"i": i}), done.stderr
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warm", type=int, default=500)
    parser.add_argument("--cold", type=int, default=30)
    options = parser.parse_args()
    client = connect()
    image = ensure_test_image(client)
    client.close()
    skill = load_manifest(TEST_SKILLS_DIR / "echo")
    warm = asyncio.run(warm_samples(image, skill, options.warm))
    cold = cold_samples(image, skill, options.cold)
    warm_p50_ms, cold_p50_ms = percentile(warm, 0.5), percentile(cold, 0.5)
    speedup = cold_p50_ms / warm_p50_ms
    figures = {
        "image": image,
        "warm_calls": len(warm),
        "cold_calls": len(cold),
        "warm_p50_ms": round(warm_p50_ms, 2),
        "warm_p99_ms": round(percentile(warm, 0.99), 2),
        "cold_p50_ms": round(cold_p50_ms, 2),
        "cold_p99_ms": round(percentile(cold, 0.99), 2),
        "speedup_p50": round(speedup, 1),
        "meets_targets": warm_p50_ms <= WARM_P50_TARGET_MS and speedup >= SPEEDUP_TARGET,
    }
    print(f"warm pool   p50 {figures['warm_p50_ms']:8.2f} ms   p99 {figures['warm_p99_ms']:8.2f} ms")
    print(f"docker run  p50 {figures['cold_p50_ms']:8.2f} ms   p99 {figures['cold_p99_ms']:8.2f} ms")
    print(f"warm is {figures['speedup_p50']}x faster at p50")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
