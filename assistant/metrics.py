"""A few counters and histograms, rendered in Prometheus' text format."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Counter:
    name: str
    help: str
    value: float = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def render(self) -> list[str]:
        return [
            f"# HELP {self.name} {self.help}",
            f"# TYPE {self.name} counter",
            f"{self.name} {self.value:g}",
        ]


@dataclass
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...] = LATENCY_BUCKETS_S
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        running = 0
        for bound, n in zip(self.buckets, self.counts, strict=True):
            running += n
            lines.append(f'{self.name}_bucket{{le="{bound:g}"}} {running}')
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {self.count}')
        lines += [f"{self.name}_sum {self.total:g}", f"{self.name}_count {self.count}"]
        return lines


def gauge(name: str, help: str, value: float) -> list[str]:
    return [f"# HELP {name} {help}", f"# TYPE {name} gauge", f"{name} {value:g}"]


@dataclass
class Metrics:
    accepted: Counter = field(
        default_factory=lambda: Counter("hearth_messages_accepted_total", "Messages accepted.")
    )
    handled: Counter = field(
        default_factory=lambda: Counter("hearth_messages_handled_total", "Messages answered.")
    )
    turns: Counter = field(default_factory=lambda: Counter("hearth_turns_total", "Turns run."))
    turn_failures: Counter = field(
        default_factory=lambda: Counter("hearth_turn_failures_total", "Turns that failed.")
    )
    sent: Counter = field(default_factory=lambda: Counter("hearth_replies_sent_total", "Replies sent."))
    turn_seconds: Histogram = field(
        default_factory=lambda: Histogram("hearth_turn_seconds", "Time to run one turn.")
    )
    model_seconds: Histogram = field(
        default_factory=lambda: Histogram("hearth_model_seconds", "Time the model took per turn.")
    )

    def render(self, gauges: Mapping[str, tuple[str, float]]) -> str:
        """Everything, plus gauges given as name -> (help, value) read by the caller."""
        parts = [self.accepted, self.handled, self.turns, self.turn_failures, self.sent]
        lines = [line for part in parts for line in part.render()]
        lines += self.turn_seconds.render() + self.model_seconds.render()
        for name, (text, value) in gauges.items():
            lines += gauge(name, text, value)
        return "\n".join(lines) + "\n"
