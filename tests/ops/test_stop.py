"""A `docker compose stop` never kills Hearth mid-turn: the grace period outlasts shutdown plus drain."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.ops.cli import HTTP_SHUTDOWN_S
from assistant.settings import load_settings

COMPOSE = Path(__file__).parents[2] / "deploy" / "compose.yaml"
# Beyond the HTTP shutdown and the drain: the sender, the sandbox's containers and the store stop.
CLEAN_UP_S = 10.0
UNITS_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_s(text: str) -> float:
    """A compose duration such as `2m30s` or `150s`, in seconds."""
    parts = re.findall(r"([0-9.]+)(ms|h|m|s)", text)
    assert "".join(n + u for n, u in parts) == text, f"not a compose duration: {text!r}"
    return sum(float(number) * UNITS_S[unit] for number, unit in parts)


def hearth_stop_grace_s(compose: str) -> float:
    """The `stop_grace_period` of the `hearth` service (compose's default is 10 s)."""
    service = re.search(r"^  hearth:\n((?:    .*\n|\s*\n)*)", compose, re.M)
    assert service is not None, "no hearth service in compose.yaml"
    found = re.search(r"^    stop_grace_period:\s*(\S+)", service[1], re.M)
    return duration_s(found[1]) if found else 10.0


def test_durations_read_like_compose() -> None:
    assert [duration_s(t) for t in ("150s", "2m30s", "1h", "500ms")] == [150.0, 150.0, 3600.0, 0.5]


def test_the_stop_grace_period_outlasts_shutdown_and_drain() -> None:
    drain_s = load_settings({}, env_file=None).drain_timeout_s
    grace_s = hearth_stop_grace_s(COMPOSE.read_text())
    assert grace_s > HTTP_SHUTDOWN_S + drain_s + CLEAN_UP_S


def test_the_drain_lets_a_minute_long_turn_finish() -> None:
    # A turn on a CPU model takes about a minute; the drain leaves room for one and its reply.
    assert load_settings({}, env_file=None).drain_timeout_s >= 90.0
