"""A trivial skill: answers with its arguments."""

from __future__ import annotations

from typing import Any


def run(args: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    return args
