"""Exponential backoff with jitter, shared by every retry loop."""

from __future__ import annotations

import random

MAX_DELAY_S = 300.0
# Doublings past this add nothing for any sane base (2**40 seconds is thousands of years), and
# bounding them keeps `2.0 ** n` from overflowing after a long outage (it raises past n = 1023).
MAX_DOUBLINGS = 40
_RNG = random.Random()


def doubling_s(attempts: int, base_s: float, cap_s: float = MAX_DELAY_S) -> float:
    """base, 2 x base, 4 x base … for attempts 1, 2, 3 …, at most `cap_s`. Any number of attempts is
    fine: the delay stays at the cap, it never overflows."""
    doublings = min(max(attempts - 1, 0), MAX_DOUBLINGS)
    return min(base_s * 2.0**doublings, cap_s)


def backoff_s(attempts: int, base_s: float, rng: random.Random | None = None) -> float:
    """`doubling_s` capped at five minutes, each cut by up to half so that many failures do not all
    come back at the same moment."""
    return doubling_s(attempts, base_s) * (rng or _RNG).uniform(0.5, 1.0)
