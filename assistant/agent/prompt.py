"""Building the prompt: a stable prefix, the chat's history within a token budget, then the new messages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.store.views import Entry

PERSONA = (
    "You are Hearth, a personal assistant that runs on its owner's own hardware. "
    "Answer briefly and plainly, in the language the person writes in. "
    "Use a tool when it helps; never claim to have done something a tool did not confirm."
)
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """A rough count that errs high; good enough to keep a prompt inside the context."""
    return len(text) // CHARS_PER_TOKEN + 4


def answer_reserve(num_ctx: int) -> int:
    """Tokens kept free for the answer."""
    return min(4096, num_ctx // 4)


@dataclass(frozen=True)
class PromptInput:
    tools: Sequence[Mapping[str, Any]]
    history: Sequence[Entry]
    new: Sequence[str]
    now: datetime
    num_ctx: int
    persona: str = PERSONA


def prefix(persona: str, tools: Sequence[Mapping[str, Any]]) -> str:
    """The part that stays byte-identical between turns, so Ollama can reuse its cache."""
    lines = [persona]
    if tools:
        lines.append("Tools: " + ", ".join(t["function"]["name"] for t in tools) + ".")
    return "\n".join(lines)


def clock_line(now: datetime) -> str:
    zone = now.tzname() or "UTC"
    return f"It is now {now:%A %d %B %Y, %H:%M} ({zone}, {now.tzinfo})."


def fit_history(history: Sequence[Entry], budget_tokens: int) -> list[Entry]:
    """The most recent entries whose estimated size fits the budget, in their original order."""
    kept: list[Entry] = []
    for entry in reversed(history):
        budget_tokens -= estimate_tokens(entry.text)
        if budget_tokens < 0:
            break
        kept.append(entry)
    kept.reverse()
    return kept


def build(data: PromptInput) -> list[dict[str, Any]]:
    """The messages for /api/chat: prefix, history that fits, the time, then the new messages."""
    head = prefix(data.persona, data.tools)
    new = [{"role": "user", "content": text} for text in data.new]
    fixed = estimate_tokens(head) + estimate_tokens(json.dumps(list(data.tools)))
    fixed += sum(estimate_tokens(text) for text in data.new) + estimate_tokens(clock_line(data.now))
    budget = data.num_ctx - answer_reserve(data.num_ctx) - fixed
    past = [{"role": e.role, "content": e.text} for e in fit_history(data.history, budget)]
    clock = {"role": "system", "content": clock_line(data.now)}
    return [{"role": "system", "content": head}, *past, clock, *new]
