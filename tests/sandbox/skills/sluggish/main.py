"""A skill slow to load: its worker says it is ready only after LOAD_S seconds."""

from __future__ import annotations

import time
from typing import Any

LOAD_S = 10

time.sleep(LOAD_S)


def run(args: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    return args
