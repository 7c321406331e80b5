"""A page whose text an attacker wrote: the skill returns it as it is."""

from __future__ import annotations

from typing import Any


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    return str(args["text"])
