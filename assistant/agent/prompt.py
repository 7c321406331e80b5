"""Building the prompt: a stable prefix, the summary, history within a token budget, the new messages."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.access.content import RULE
from assistant.agent import specjson
from assistant.store.views import Entry

PERSONA = (
    "You are Hearth, a personal assistant that runs on its owner's own hardware. "
    "Answer briefly and plainly, in the language the person writes in. "
    "Use a tool when it helps; never claim to have done something a tool did not confirm."
)
CHARS_PER_TOKEN = 4.0
PER_MESSAGE_TOKENS = 4
FACTS_HEADER = "What you know about the person (the numbers are ids for forget):"
SUMMARY_HEADER = "Summary of the earlier conversation:"
# What an image costs a vision model, roughly (gemma3 takes 256 tokens; others vary with size).
IMAGE_TOKENS = 768
# What the model reads instead of a tool result cut to keep a turn within the context.
CUT_RESULT = "[this tool result was removed to keep the conversation within the model's context]"


def estimate_tokens(text: str, chars_per_token: float = CHARS_PER_TOKEN) -> int:
    """Tokens for one message holding `text`, with its framing; rough, rounded up."""
    return chars_tokens(len(text), chars_per_token)


def chars_tokens(chars: int, chars_per_token: float = CHARS_PER_TOKEN) -> int:
    """`estimate_tokens` of a text `chars` long."""
    return math.ceil(chars / chars_per_token) + PER_MESSAGE_TOKENS


def answer_reserve(num_ctx: int) -> int:
    """Tokens kept free for the answer."""
    return min(4096, num_ctx // 4)


@dataclass(frozen=True)
class Remembered:
    """What memory adds to a prompt: the chat's facts as (id, text), its running summary, and the
    chars-per-token ratio learnt from the model."""

    facts: Sequence[tuple[int, str]] = ()
    summary: str = ""
    chars_per_token: float = CHARS_PER_TOKEN


NOTHING = Remembered()


@dataclass(frozen=True)
class PromptInput:
    tools: Sequence[Mapping[str, Any]]
    history: Sequence[Entry]
    new: Sequence[str]
    now: datetime
    num_ctx: int
    persona: str = PERSONA
    remembered: Remembered = NOTHING
    images: Sequence[Sequence[str]] = ()  # base64 images of each new message

    def tokens(self, text: str) -> int:
        return estimate_tokens(text, self.remembered.chars_per_token)


def prefix(persona: str, tools: Sequence[Mapping[str, Any]], facts: Sequence[tuple[int, str]] = ()) -> str:
    """The part that stays byte-identical between turns while the facts do not change, so Ollama
    can reuse its cache."""
    lines = [persona, RULE]
    if tools:
        lines.append("Tools: " + ", ".join(t["function"]["name"] for t in tools) + ".")
    if facts:
        lines += [FACTS_HEADER, *(f"- [{fact_id}] {text}" for fact_id, text in facts)]
    return "\n".join(lines)


def summary_text(summary: str) -> str:
    return f"{SUMMARY_HEADER}\n{summary}"


def clock_line(now: datetime) -> str:
    zone = now.tzname() or "UTC"
    return f"It is now {now:%A %d %B %Y, %H:%M} ({zone}, {now.tzinfo})."


def fit_history(
    history: Sequence[Entry], budget_tokens: int, chars_per_token: float = CHARS_PER_TOKEN
) -> list[Entry]:
    """The most recent entries whose estimated size fits the budget, in their original order."""
    kept: list[Entry] = []
    for entry in reversed(history):
        budget_tokens -= estimate_tokens(entry.text, chars_per_token)
        if budget_tokens < 0:
            break
        kept.append(entry)
    kept.reverse()
    return kept


def fixed_tokens(data: PromptInput) -> int:
    """Everything but the history: prefix, tool specs, summary, clock and the new messages."""
    fixed = data.tokens(prefix(data.persona, data.tools, data.remembered.facts))
    fixed += chars_tokens(specjson.chars(data.tools), data.remembered.chars_per_token) if data.tools else 0
    if data.remembered.summary:
        fixed += data.tokens(summary_text(data.remembered.summary))
    fixed += sum(IMAGE_TOKENS * len(found) for found in data.images)
    return fixed + sum(data.tokens(text) for text in data.new) + data.tokens(clock_line(data.now))


def request_budget(num_ctx: int) -> int:
    """The tokens a whole request may take: the context less the answer's room."""
    return num_ctx - answer_reserve(num_ctx)


def history_budget(data: PromptInput) -> int:
    """The tokens left for history once the answer's room and everything else are taken."""
    return request_budget(data.num_ctx) - fixed_tokens(data)


def build(data: PromptInput) -> list[dict[str, Any]]:
    """The messages for /api/chat: prefix, summary, history that fits, the time, the new messages."""
    head = [{"role": "system", "content": prefix(data.persona, data.tools, data.remembered.facts)}]
    if data.remembered.summary:
        head.append({"role": "system", "content": summary_text(data.remembered.summary)})
    fitted = fit_history(data.history, history_budget(data), data.remembered.chars_per_token)
    past = [{"role": e.role, "content": e.text} for e in fitted]
    clock = {"role": "system", "content": clock_line(data.now)}
    return [*head, *past, clock, *new_messages(data)]


def new_messages(data: PromptInput) -> list[dict[str, Any]]:
    """The person's new messages, each with its images when it has some."""
    found: list[dict[str, Any]] = []
    for index, text in enumerate(data.new):
        message: dict[str, Any] = {"role": "user", "content": text}
        if index < len(data.images) and data.images[index]:
            message["images"] = list(data.images[index])
        found.append(message)
    return found


def message_tokens(message: Mapping[str, Any], chars_per_token: float = CHARS_PER_TOKEN) -> int:
    """Tokens for one request message: its content, its tool calls and its images."""
    text = str(message.get("content") or "")
    if message.get("tool_calls"):
        text += json.dumps(message["tool_calls"])
    return estimate_tokens(text, chars_per_token) + IMAGE_TOKENS * len(message.get("images") or ())


def request_tokens(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None,
    chars_per_token: float = CHARS_PER_TOKEN,
) -> int:
    """Tokens for a whole /api/chat request: every message and the tool specs."""
    specs = chars_tokens(specjson.chars(tools), chars_per_token) if tools else 0
    return specs + sum(message_tokens(m, chars_per_token) for m in messages)


def cut_tool_results(
    messages: list[dict[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None,
    budget_tokens: int,
    chars_per_token: float = CHARS_PER_TOKEN,
) -> int:
    """While the request is over `budget_tokens`, replace the oldest tool result's content with
    CUT_RESULT; how many were cut. Messages are changed in place, never removed, so every call keeps
    its result and the request stays well formed; a cut result stays cut on the turn's later steps."""
    if not any(message.get("role") == "tool" for message in messages):
        return 0  # nothing to cut (a turn's first request): weighing the whole request is not needed
    over = request_tokens(messages, tools, chars_per_token) - budget_tokens
    cut_tokens = message_tokens({"content": CUT_RESULT}, chars_per_token)
    cut = 0
    for message in messages:
        if over <= 0:
            break
        if message.get("role") != "tool":
            continue
        saved = message_tokens(message, chars_per_token) - cut_tokens
        if saved <= 0:  # cut already, or shorter than the note
            continue
        message["content"] = CUT_RESULT
        over -= saved
        cut += 1
    return cut
