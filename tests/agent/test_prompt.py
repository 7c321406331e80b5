"""Prompt building and text tool calls: pure functions, checked with tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistant.agent import prompt
from assistant.agent.builtins import GetTime
from assistant.agent.textcalls import parse_text_call
from assistant.agent.tools import ToolRegistry
from assistant.store.views import Entry
from assistant.types import ToolCall

AT = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
SPECS = ToolRegistry([GetTime()]).specs()


def entry(n: int, text: str) -> Entry:
    return Entry(n, "user" if n % 2 else "assistant", text, "handled", AT)


def build(history: list[Entry], num_ctx: int = 16384, now: datetime = AT) -> list[dict[str, object]]:
    return prompt.build(prompt.PromptInput(SPECS, history, ["new"], now, num_ctx))


def test_the_prefix_is_identical_between_turns() -> None:
    early = build([entry(1, "a")], now=AT)
    later = build([entry(1, "a"), entry(2, "b")], now=AT.replace(hour=21, minute=7))
    assert early[0] == later[0]
    assert "get_time" in str(early[0]["content"])


def test_the_clock_follows_history_in_the_chat_zone() -> None:
    messages = build([entry(1, "a")], now=AT.astimezone(ZoneInfo("Europe/Berlin")))
    assert messages[-2]["role"] == "system"
    assert "09:30" in str(messages[-2]["content"])
    assert "Friday 27 November 2026" in str(messages[-2]["content"])


def test_history_is_cut_to_the_budget_keeping_the_newest() -> None:
    history = [entry(n, f"{n:04d} " + "x" * 400) for n in range(1, 200)]
    messages = build(history, num_ctx=4096)
    kept = [str(m["content"])[:4] for m in messages[1:-2]]
    assert kept
    assert kept[-1] == "0199"
    total = sum(prompt.estimate_tokens(str(m["content"])) for m in messages)
    assert total <= 4096 - prompt.answer_reserve(4096)
    assert kept == sorted(kept)


@pytest.mark.parametrize(
    ("content", "call"),
    [
        ('{"name": "get_time", "arguments": {"timezone": "UTC"}}', ToolCall("get_time", {"timezone": "UTC"})),
        ('```json\n{"name": "get_time", "arguments": {}}\n```', ToolCall("get_time", {})),
        (
            '<tool_call>{"name": "get_time", "parameters": {"a": 1}}</tool_call>',
            ToolCall("get_time", {"a": 1}),
        ),
        ('{"function": {"name": "get_time", "arguments": "{\\"x\\": 2}"}}', ToolCall("get_time", {"x": 2})),
        ('{"name": "rm_rf", "arguments": {}}', None),
        ('{"name": "get_time", "arguments": [1]}', None),
        ("The time is {unknown}.", None),
        ('Sure! {"name": "get_time"}', None),
        ("{broken", None),
    ],
)
def test_text_tool_calls(content: str, call: ToolCall | None) -> None:
    assert parse_text_call(content, {"get_time"}) == call


def with_results(*sizes: int) -> list[dict[str, Any]]:
    """A turn's request: the question, then one call with one result of each size in characters."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "q"}]
    for n, size in enumerate(sizes):
        call = {"function": {"name": "get_time", "arguments": {"n": n}}}
        messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        messages.append({"role": "tool", "tool_name": "get_time", "content": str(n) * size})
    return messages


@pytest.mark.parametrize(
    ("sizes", "budget", "kept"),
    [
        ((800, 800, 800), 700, [True, True, True]),  # it fits (674 tokens): nothing goes
        ((800, 800, 800), 600, [False, True, True]),  # the oldest goes first
        ((800, 800, 800), 400, [False, False, True]),
        ((4000, 40, 40), 200, [False, True, True]),  # one big old result is enough
        ((800, 20, 800), 200, [False, True, False]),  # one shorter than the note stays
        ((800, 800, 800), 100, [False, False, False]),  # the newest too, rather than overflow
    ],
)
def test_the_oldest_tool_results_give_way_to_fit_the_budget(
    sizes: tuple[int, ...], budget: int, kept: list[bool]
) -> None:
    messages = with_results(*sizes)
    cut = prompt.cut_tool_results(messages, None, budget)
    results = [m["content"] for m in messages if m["role"] == "tool"]
    assert [text != prompt.CUT_RESULT for text in results] == kept
    assert cut == kept.count(False)
    assert len(messages) == 1 + 2 * len(sizes)  # every call keeps its result
    if any(kept):
        assert prompt.request_tokens(messages, None) <= budget
    assert prompt.cut_tool_results(messages, None, budget) == 0  # what was cut stays cut, once
