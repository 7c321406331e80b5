"""The fault table: each fault of the reliability suite run N times against real `hearth serve`
processes, and what it came to: messages lost, answered twice, replies lost, sent twice.

Run from the repository root: `python -m tests.bench.faults --runs 3` (add `--long` for the long
variants: a 2-minute provider outage, an hour's worth of model retries, 30 random kills). A send
repeated because the provider accepted it in the instant of a kill is shown apart, in brackets:
the one duplicate the design allows. Everything talks only to servers this script starts on
127.0.0.1. The exit code is 1 when any count other than that one is above zero.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.faults import kills, outages
from tests.faults.tally import Tally

Run = Callable[[Path], Awaitable[list[Tally]]]


def runs(long: bool, provider_down_s: float | None) -> list[tuple[str, Run]]:
    """Each fault as something that runs it once and returns its tallies."""
    down_s = provider_down_s or (120.0 if long else 5.0)

    def one(make: Callable[[Path], Awaitable[Tally]]) -> Run:
        async def run(tmp: Path) -> list[Tally]:
            return [await make(tmp)]

        return run

    return [
        ("kill points", kills.kill_points),
        ("random kills", one(lambda t: kills.storm(t, kills=30 if long else 3, chats=6 if long else 4))),
        ("database locked", one(lambda t: outages.database_locked(t, lock_s=10))),
        ("provider 500", one(lambda t: outages.provider_down(t, down_s=down_s))),
        ("model stalls", one(outages.model_stalls)),
        (
            "model down",
            one(lambda t: outages.model_down(t, 60, 0.00002) if long else outages.model_down(t, 8, 0.001)),
        ),
    ]


def add(total: Tally, one: Tally) -> None:
    for name in ("messages", "lost", "answered_twice", "replies_lost", "sent_twice"):
        setattr(total, name, getattr(total, name) + getattr(one, name))
    total.sent_twice_in_window += one.sent_twice_in_window
    total.effects_twice += one.effects_twice
    total.kills += one.kills


def table(totals: dict[str, tuple[int, Tally]]) -> str:
    head = "| fault | runs | messages | lost | answered twice | sent twice (in the window) | replies lost |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|"]
    for fault, (count, t) in totals.items():
        twice = t.answered_twice + t.effects_twice
        lines.append(
            f"| {fault} | {count} | {t.messages} | {t.lost} | {twice} | "
            f"{t.sent_twice} ({t.sent_twice_in_window}) | {t.replies_lost} |"
        )
    return "\n".join(lines)


async def bench(n: int, long: bool, provider_down_s: float | None, only: str | None) -> int:
    totals: dict[str, tuple[int, Tally]] = {}
    for name, run in runs(long, provider_down_s):
        if only and only not in name:
            continue
        for i in range(n):
            started = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="hearth-fault-") as tmp:
                tallies = await run(Path(tmp))
            for tally in tallies:
                print(f"[{name} {i + 1}/{n}, {time.monotonic() - started:.0f} s] {tally}", flush=True)
                count, total = totals.get(tally.fault, (0, Tally(tally.fault)))
                add(total, tally)
                totals[tally.fault] = (count + 1, total)
    print(table(totals))
    return 1 if any(t.broken for _, t in totals.values()) else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="how many times to run each fault")
    parser.add_argument("--long", action="store_true", help="the long variants")
    parser.add_argument("--provider-down-s", type=float, help="how long the provider answers 500")
    parser.add_argument("--only", help="run only the faults whose name holds this")
    args = parser.parse_args()
    sys.exit(asyncio.run(bench(args.runs, args.long, args.provider_down_s, args.only)))


if __name__ == "__main__":
    main()
