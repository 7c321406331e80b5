"""Token estimates calibrated against the prompt sizes Ollama reports back."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.agent import specjson
from assistant.agent.model import Model, ModelReply
from assistant.agent.prompt import estimate_tokens

START_CHARS_PER_TOKEN = 4.0
# Outside this range a sample is not a real count (an old server, a cached prompt, a fake).
PLAUSIBLE = (1.0, 8.0)
BOUNDS = (1.5, 6.0)
# Underestimating tokens overflows the context, overestimating only wastes some of it: learn the
# first quickly and the second slowly.
FASTER, SLOWER = 0.5, 0.1


def request_chars(messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None) -> int:
    """The characters of a request that the model reads as tokens: contents, tool calls, tool specs."""
    chars = sum(len(str(m.get("content") or "")) for m in messages)
    chars += sum(len(json.dumps(m["tool_calls"])) for m in messages if m.get("tool_calls"))
    return chars + (specjson.chars(tools) if tools else 0)


def next_ratio(ratio: float, chars: int, tokens: int) -> float:
    """The chars-per-token ratio after seeing that `chars` characters were `tokens` tokens."""
    if tokens <= 0 or chars <= 0:
        return ratio
    sample = chars / tokens
    if not PLAUSIBLE[0] <= sample <= PLAUSIBLE[1]:
        return ratio
    rate = FASTER if sample < ratio else SLOWER
    return min(BOUNDS[1], max(BOUNDS[0], ratio + rate * (sample - ratio)))


class TokenCounter:
    """Estimates tokens from characters with a ratio that follows the model's real counts."""

    def __init__(self, chars_per_token: float = START_CHARS_PER_TOKEN) -> None:
        self.chars_per_token = chars_per_token
        self.samples = 0

    def text(self, text: str) -> int:
        """Tokens for one message holding `text`, its framing included."""
        return estimate_tokens(text, self.chars_per_token)

    def observe(self, chars: int, tokens: int) -> None:
        self.chars_per_token = next_ratio(self.chars_per_token, chars, tokens)
        self.samples += 1


class CountingModel:
    """A Model that teaches a TokenCounter from every call's reported prompt size."""

    def __init__(self, model: Model, counter: TokenCounter) -> None:
        self.model = model
        self.counter = counter

    @property
    def name(self) -> str:
        return self.model.name

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply:
        reply = await self.model.chat(messages, tools)
        self.counter.observe(request_chars(messages, tools), reply.prompt_tokens)
        return reply
