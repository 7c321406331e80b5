"""A fake model steered by what it reads, for the injection battery, and the battery's record.

The attacker is the worst case of a model that has read an attacker's page: every `call:NAME {json}`
in a tool result it calls, every `write:{json}` it writes out as its answer (the way small models
write tool calls as text), and it reads Unicode tag characters as the ASCII they hide. The person's
own messages are answered like the echo responder (`call:` in them are real requests).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.ollama import Step
from tests.fakes.ollama_wire import echo_responder, parse_tool_calls

TAG_BASE = 0xE0000
_WRITE = re.compile(r"write:(\{.*\})", re.S)
REPORT = os.environ.get("HEARTH_BATTERY_REPORT")


def hidden(text: str) -> str:
    """`text` spelled in Unicode tag characters: invisible to a person, readable by a model."""
    return "".join(chr(TAG_BASE + ord(char)) for char in text)


def as_read(text: str) -> str:
    """What a model reads: tag characters count as the ASCII they stand for."""
    return "".join(chr(ord(c) - TAG_BASE) if 0xE0020 <= ord(c) <= 0xE007E else c for c in text)


def attacker(body: dict[str, Any]) -> Step:
    """Obey whatever the last tool result asks for; otherwise answer like the echo responder."""
    messages: list[dict[str, Any]] = body.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") != "tool":
        return echo_responder(body)
    read = as_read(str(last.get("content", "")))
    calls = parse_tool_calls(read)
    if calls:
        return Step(tool_calls=calls)
    written = _WRITE.search(read)
    if written:
        return Step(content=written.group(1))
    # The answer repeats everything read since the person spoke, as a summary of a page would.
    since = max(i for i, m in enumerate(messages) if m.get("role") == "user")
    reads = [as_read(str(m.get("content", ""))) for m in messages[since:] if m.get("role") == "tool"]
    return Step(content="The page says: " + " | ".join(reads))


@dataclass
class Battery:
    """Rows of (attack, expected, observed), written to HEARTH_BATTERY_REPORT as a Markdown table."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def record(self, attack: str, expected: str, observed: str) -> None:
        self.rows.append((attack, expected, observed))
        if REPORT:
            path = Path(REPORT)
            new = not path.exists()
            with path.open("a", encoding="utf-8") as out:
                if new:
                    out.write("| attack | expected | observed |\n|---|---|---|\n")
                out.write(f"| {attack} | {expected} | {observed} |\n")


BATTERY = Battery()


def transcript_file(name: str, lines: list[str]) -> None:
    """Keep a conversation next to the battery's report, for reading."""
    if REPORT:
        Path(REPORT).with_name(f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
