"""Reach a URL from inside an egress skill: through the proxy like any well-behaved skill, or, with
`direct`, straight to the host the way hostile code would."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit


def direct(url: str) -> str:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=3):
            return "connected"
    except OSError as exc:
        return f"unreachable: {type(exc).__name__}"


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    url = str(args["url"])
    if args.get("direct"):
        return direct(url)
    try:
        with urllib.request.urlopen(url, timeout=8) as response:  # noqa: S310
            return f"{response.status} {response.read(200).decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} refused"
    except (urllib.error.URLError, OSError) as exc:
        return f"failed: {exc}"
