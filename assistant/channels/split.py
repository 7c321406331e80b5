"""Cutting long replies into provider-sized parts, and sending them in order."""

from __future__ import annotations

import re

from assistant.channels.base import SendError, TextSender
from assistant.types import Address

WHATSAPP_LIMIT = 4096
TWILIO_LIMIT = 1600

# Preferred places to cut, best first: a blank line, a line end, a sentence end, a space.
_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"[.!?…。](?=\s)"),
    re.compile(r"\s"),
)


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into parts of at most `limit` characters, in order.

    Cuts fall at a paragraph, line, sentence or word boundary in the second half of the
    window when there is one, else exactly at the limit. Whitespace around cuts is dropped;
    every other character is kept. Blank text gives no parts.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` (which starts with a non-space) so the head fits in `limit`."""
    window = text[: limit + 1]
    for pattern in _BOUNDARIES:
        ends = [m.end() for m in pattern.finditer(window) if m.start() > 0 and m.end() <= limit]
        good = [end for end in ends if end >= limit // 2]
        if good:
            return good[-1]
    spaces = [m.start() for m in _BOUNDARIES[-1].finditer(window) if m.start() > 0]
    return spaces[-1] if spaces else limit


async def send_split(sender: TextSender, to: Address, text: str, *, skip: int = 0) -> list[str]:
    """Send `text` in parts of at most `sender.limit` characters; return their message ids.

    The first `skip` parts are taken as already delivered (a retry after a partial send).
    On failure the SendError carries `delivered_parts`, the count to pass as `skip` next time.
    """
    ids: list[str] = []
    for part in split_text(text, sender.limit)[skip:]:
        try:
            ids.append(await sender.send_text(to, part))
        except SendError as exc:
            exc.delivered_parts = skip + len(ids)
            raise
    return ids
