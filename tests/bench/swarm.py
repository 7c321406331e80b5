"""Benchmark a delegate call of 5 tasks against a fake model taking 200 ms per call, at concurrency 1, 2, 5.

Run: `.venv/bin/python -m tests.bench.swarm`. The last line of output is one JSON object with the figures.
The model's own time is measured, not assumed: the same five calls made straight through the model client
with the same concurrency (the fake server shares this process, so that includes its work too). Overhead is
the team's wall time beyond that. Targets: overhead at most 5 %, and wall time within 10 % of
ceil(tasks / concurrency) x the per-call time.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from assistant.agent.model import OllamaModel, model_options
from assistant.agent.tools import ToolContext, ToolRegistry
from assistant.settings import Settings
from assistant.store import Store
from assistant.store.columns import utcnow
from assistant.store.tables import Chat
from assistant.team.roles import Role
from assistant.team.service import Limits, Swarm
from assistant.team.tools import Delegate, nested
from tests.fakes.ollama import FakeOllama

TASKS = 5
PER_CALL_S = 0.2
REPEATS = 3
WRITER = Role("writer", "writes", "You are the writer.", max_steps=2, timeout_s=60)


def limits(concurrency: int) -> Limits:
    return Limits(concurrency, TASKS, 1, 600.0, 1_000_000, 600.0, 4096)


async def one_call(swarm: Swarm, ctx: ToolContext) -> float:
    args = {"tasks": [{"role": "writer", "task": f"part {n}"} for n in range(TASKS)]}
    begun = time.perf_counter()
    result = json.loads((await Delegate(swarm).call(args, ctx)).text)
    wall_s = time.perf_counter() - begun
    assert all(entry["status"] == "done" for entry in result["results"]), result
    return wall_s


async def bare_calls(model: OllamaModel, concurrency: int) -> float:
    """The five member calls made directly, `concurrency` at a time: the model's own time."""
    slots = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with slots:
            messages = [
                {"role": "system", "content": WRITER.instructions},
                {"role": "user", "content": f"part {n}"},
            ]
            await model.chat(messages, None)

    begun = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(TASKS)))
    return time.perf_counter() - begun


async def measure(store: Store, model: OllamaModel, fake: FakeOllama) -> list[dict[str, Any]]:
    async def notify(chat_id: int, text: str) -> None:
        return None

    class Main:
        async def get(self, name: str | None) -> OllamaModel:
            return model

    ctx = ToolContext(1, "api:bench", ZoneInfo("UTC"), utcnow())
    figures = []
    for concurrency in (1, 2, 5):
        swarm = Swarm(store, ToolRegistry(), {"writer": WRITER}, Main(), limits(concurrency), notify, nested)
        fake.max_in_flight = 0
        wall_s = statistics.median([await one_call(swarm, ctx) for _ in range(REPEATS)])
        model_s = statistics.median([await bare_calls(model, concurrency) for _ in range(REPEATS)])
        ideal_s = math.ceil(TASKS / concurrency) * PER_CALL_S
        figures.append(
            {
                "concurrency": concurrency,
                "wall_s": round(wall_s, 4),
                "model_s": round(model_s, 4),
                "ideal_s": round(ideal_s, 4),
                "overhead_s": round(wall_s - model_s, 4),
                "overhead_pct": round(100 * (wall_s - model_s) / model_s, 2),
                "wall_vs_ideal_pct": round(100 * (wall_s - ideal_s) / ideal_s, 2),
                "max_in_flight": fake.max_in_flight,
            }
        )
    return figures


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        await store.write(lambda s: s.add(Chat(channel="api", address="api:bench")))
        async with FakeOllama(delay_s=PER_CALL_S) as fake:
            model = OllamaModel(model_options(Settings(ollama_url=fake.url)))
            await model.chat([{"role": "user", "content": "warm up"}], None)
            try:
                figures = await measure(store, model, fake)
            finally:
                await model.close()
        await store.close()
    for row in figures:
        print(
            f"concurrency {row['concurrency']}: wall {row['wall_s']:.3f} s, "
            f"model's own {row['model_s']:.3f} s, "
            f"overhead {row['overhead_s'] * 1000:.1f} ms ({row['overhead_pct']:.1f} %), "
            f"{row['wall_vs_ideal_pct']:+.1f} % against {row['ideal_s']:.1f} s"
        )
    overhead_ok = all(row["overhead_pct"] <= 5 for row in figures)
    wall_ok = all(row["wall_vs_ideal_pct"] <= 10 for row in figures)
    summary = {"tasks": TASKS, "per_call_s": PER_CALL_S, "repeats": REPEATS, "runs": figures}
    return {**summary, "overhead_target_met": overhead_ok, "wall_target_met": wall_ok}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
