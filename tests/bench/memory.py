"""Prompt size, summary calls and prompt-building time over a long conversation, against the fake Ollama.

Run: .venv/bin/python -m tests.bench.memory [--exchanges 250] [--num-ctx 2048]
The last line of the output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from tests.agent.conversation import conversation
from tests.fakes.ollama import FakeOllama
from tests.memory.fake import is_summary, responder, tokens
from tests.memory.test_long import filler


def prompt_chars(body: dict[str, Any]) -> int:
    return sum(len(str(m.get("content") or "")) for m in body["messages"])


async def run(exchanges: int, num_ctx: int) -> dict[str, Any]:
    build_s: list[float] = []
    async with FakeOllama(responder=responder) as fake:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(data_dir=Path(tmp), ollama_url=fake.url, num_ctx=num_ctx)
            async with conversation(settings, Path(tmp)) as conv:
                for n in range(1, exchanges + 1):
                    await conv.say("bench", filler(n))
                    build_s.append(conv.memory.last_build_s)
                summaries, ratio = conv.memory.summary_calls, conv.memory.counter.chars_per_token
        turns = [body for body in fake.chat_requests if not is_summary(body)]
    chars = [prompt_chars(body) for body in turns]
    counted = [tokens(body) for body in turns]
    step = max(1, exchanges // 10)
    return {
        "messages": exchanges * 2,
        "num_ctx": num_ctx,
        "summary_calls": summaries,
        "prompt_chars_at": {i + 1: chars[i] for i in range(step - 1, exchanges, step)},
        "prompt_tokens_at": {i + 1: counted[i] for i in range(step - 1, exchanges, step)},
        "prompt_tokens_max": max(counted),
        "prompt_tokens_mean_last_half": round(statistics.mean(counted[exchanges // 2 :])),
        "chars_per_token_learnt": round(ratio, 3),
        "build_ms_mean": round(statistics.mean(build_s) * 1000, 2),
        "build_ms_p95": round(sorted(build_s)[int(len(build_s) * 0.95)] * 1000, 2),
        "build_ms_max": round(max(build_s) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--exchanges", type=int, default=250, help="person messages, each answered")
    parser.add_argument("--num-ctx", type=int, default=2048)
    args = parser.parse_args()
    figures = asyncio.run(run(args.exchanges, args.num_ctx))
    for turn, chars in figures["prompt_chars_at"].items():
        print(f"turn {turn:4}: {chars:6} prompt chars, {figures['prompt_tokens_at'][turn]:5} tokens")
    print(f"summary calls: {figures['summary_calls']}")
    mean_ms, p95_ms = figures["build_ms_mean"], figures["build_ms_p95"]
    print(f"preparing memory per turn: mean {mean_ms} ms, p95 {p95_ms} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
