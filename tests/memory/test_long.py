"""A long conversation against the fake Ollama: prompts stay in budget, summaries carry old facts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.agent import prompt
from assistant.memory import summary
from assistant.settings import Settings
from tests.agent.conversation import Conversation, conversation
from tests.fakes.ollama import FakeOllama
from tests.memory.fake import CHARS_PER_TOKEN, is_summary, responder, tokens

NUM_CTX = 2048
# 250 exchanges: the person's message 2 is the conversation's message 3, their message 200 its 399th.
EXCHANGES = 250
WORDS = ["apples", "river", "garden", "letters", "Tuesday", "bicycle", "kettle", "window"]


def filler(n: int) -> str:
    if n == 2:
        return "by the way, my name is Ada Lovelace"
    return f"message {n}: " + " ".join(WORDS[(n + i) % len(WORDS)] for i in range(n % 7 + 3))


def budget(conv: Conversation) -> int:
    """The history budget once the ratio has settled on the fake's."""
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    data = prompt.PromptInput(
        conv.pipeline.agent.tools.specs(),
        [],
        [filler(100)],
        now,
        NUM_CTX,
        remembered=prompt.Remembered((), "", CHARS_PER_TOKEN),
    )
    return prompt.history_budget(data) - summary.summary_tokens(NUM_CTX)


async def converse(conv: Conversation, count: int) -> None:
    for n in range(1, count + 1):
        await conv.say("long", filler(n))


def turns(fake: FakeOllama) -> list[dict[str, Any]]:
    return [body for body in fake.chat_requests if not is_summary(body)]


def line_tokens(n: int) -> int:
    """The estimate for exchange `n`: the person's message and the echo of it."""
    text = filler(n)
    return prompt.estimate_tokens(text, CHARS_PER_TOKEN) + prompt.estimate_tokens(
        "echo: " + text, CHARS_PER_TOKEN
    )


async def test_a_long_conversation_stays_in_budget_and_remembers(
    settings: Settings, fake: FakeOllama, tmp_path: Path
) -> None:
    fake.responder = responder
    async with conversation(dataclasses.replace(settings, num_ctx=NUM_CTX), tmp_path) as conv:
        await converse(conv, EXCHANGES)
        b = budget(conv)
    asked = turns(fake)
    assert len(asked) == EXCHANGES
    limit = NUM_CTX - prompt.answer_reserve(NUM_CTX)
    assert max(tokens(body) for body in fake.chat_requests) <= limit
    at_400 = asked[199]["messages"]
    assert "Ada Lovelace" in at_400[1]["content"]
    assert at_400[1]["content"].startswith(prompt.SUMMARY_HEADER)
    assert not any("Ada" in m["content"] for m in at_400[2:])
    assert len({str(body["messages"][0]) for body in asked}) == 1
    made = sum(1 for body in fake.chat_requests if is_summary(body))
    assert made == conv.memory.summary_calls
    total, exchange = sum(map(line_tokens, range(1, EXCHANGES + 1))), max(map(line_tokens, range(1, 30)))
    # Each fold starts above the budget and keeps at most half of it, so it folds at least half; it
    # folds at most half plus the exchange that pushed the history over.
    assert (total - b) / (b / 2 + exchange) <= made <= total / (b / 2)
