"""Fetch a URL through the egress proxy and say the status (an HTTP refusal included)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    try:
        with urllib.request.urlopen(str(args["url"]), timeout=8) as response:  # noqa: S310
            return f"{response.status} {response.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} refused"
