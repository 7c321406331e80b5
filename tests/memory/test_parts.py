"""The pure parts of memory: token calibration, the fold plan, clipping, and ranking facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import pytest

from assistant.agent.model import ModelReply
from assistant.memory import summary
from assistant.memory.facts import Known, cosine, for_prompt, keyword_score, rank, words
from assistant.memory.tokens import CountingModel, TokenCounter, next_ratio, request_chars
from assistant.store.memory import Summary
from assistant.store.views import Entry

AT = datetime(2026, 11, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ratio", "chars", "tokens", "expected"),
    [
        (4.0, 3000, 1000, 3.5),  # fewer chars per token than thought: move half way at once
        (3.0, 5000, 1000, 3.2),  # more: move a tenth of the way
        (4.0, 4000, 1000, 4.0),
        (4.0, 4000, 0, 4.0),  # no count reported
        (4.0, 4000, 10, 4.0),  # 400 chars a token is no real count
        (1.6, 1000, 1000, 1.5),  # kept within bounds
        (5.9, 7900, 1000, 6.0),
    ],
)
def test_the_ratio_follows_real_counts(ratio: float, chars: int, tokens: int, expected: float) -> None:
    assert next_ratio(ratio, chars, tokens) == pytest.approx(expected)


class Reporting:
    """A model that reports a prompt of `tokens` tokens."""

    name = "reporting"

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply:
        return ModelReply("ok", prompt_tokens=self.tokens)


async def test_the_counting_model_calibrates_from_each_call() -> None:
    counter = TokenCounter()
    model = CountingModel(Reporting(100), counter)
    messages = [{"role": "user", "content": "x" * 250}, {"role": "assistant", "content": "y" * 50}]
    reply = await model.chat(messages, None)
    assert reply.content == "ok"
    assert request_chars(messages, None) == 300
    assert counter.chars_per_token == pytest.approx(3.5)
    assert counter.text("z" * 35) == 10 + 4


def entries(*sizes: int) -> list[Entry]:
    roles: tuple[Literal["user"], Literal["assistant"]] = ("user", "assistant")
    return [Entry(n // 2 + 1, roles[n % 2], "x" * size, "handled", AT) for n, size in enumerate(sizes)]


# Each entry of 36 characters at 4 characters a token is 9 + 4 = 13 tokens.
@pytest.mark.parametrize(
    ("count", "budget", "limit", "skip", "fold", "keep"),
    [
        (4, 60, 100, 0, 0, 4),  # 52 tokens fit
        (6, 60, 100, 0, 4, 2),  # 78 do not: keep what fits in 30, fold the rest
        (10, 60, 26, 6, 2, 2),  # one call reads 26 tokens: the oldest go in unread
        (2, 10, 100, 0, 2, 0),  # not even one fits
    ],
)
def test_the_fold_plan(count: int, budget: int, limit: int, skip: int, fold: int, keep: int) -> None:
    history = entries(*[36] * count)
    plan = summary.plan(history, budget, limit, 4.0)
    assert (len(plan.skip), len(plan.fold), len(plan.keep)) == (skip, fold, keep)
    assert [*plan.skip, *plan.fold, *plan.keep] == history


def test_markers_move_past_what_was_covered() -> None:
    old = Summary("old", through_message_id=3, through_reply_id=2, folds=1)
    covered = [Entry(4, "user", "a", "handled", AT), Entry(3, "assistant", "b", "handled", AT)]
    assert summary.advanced(old, "new", covered) == Summary("new", 4, 3, 2)
    assert summary.advanced(old, "new", covered[:1]) == Summary("new", 4, 2, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short  and\nspaced", "short and spaced"),
        ("<think>hmm</think> The person is Ada.", "The person is Ada."),
        ("word " * 100, ("word " * 13).strip() + "…"),
    ],
)
def test_clip(text: str, expected: str) -> None:
    # 30 tokens at 4 characters, less the framing and the header: 67 characters.
    assert summary.clip(text, 30, 4.0) == expected


def test_the_summary_request_carries_the_old_summary_and_new_lines() -> None:
    system, user = summary.summary_request("Ada likes tea.", entries(3, 4), 50)
    assert "at most 50 words" in system["content"]
    assert user["content"].startswith("Summary so far:\nAda likes tea.\n\nNew lines:\nPerson: xxx\n")
    assert user["content"].endswith("Assistant: xxxx")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("My name is Ada!", {"name", "ada"}), ("the a I", set()), ("Tea, TEA and tea", {"tea"})],
)
def test_words(text: str, expected: set[str]) -> None:
    assert words(text) == expected


FACTS = [Known(1, "Likes green tea"), Known(2, "Has a cat called Miso"), Known(3, "Drinks black tea daily")]


@pytest.mark.parametrize(
    ("query", "first"),
    [("tea", 1), ("black tea", 3), ("my cat", 2), ("nothing shared", 3)],
)
def test_keyword_rank(query: str, first: int) -> None:
    # Shorter facts win on the same words; ties go to the newer fact.
    assert rank(FACTS, query)[0].id == first


def test_vectors_outrank_words_and_facts_without_one_come_last() -> None:
    facts = [Known(1, "tea", [1.0, 0.0]), Known(2, "cat", [0.0, 1.0]), Known(3, "tea tea", None)]
    assert [f.id for f in rank(facts, "tea", [0.1, 0.9])] == [2, 1, 3]
    assert cosine([1.0, 0.0], [1.0, 0.0, 0.0]) == 0.0
    assert keyword_score(set(), "tea") == 0.0


@pytest.mark.parametrize(
    ("max_count", "max_tokens", "expected"),
    [(10, 1000, [1, 2, 3]), (2, 1000, [1, 3]), (10, 12, [3]), (10, 5, [])],
)
def test_facts_for_the_prompt_come_in_id_order(max_count: int, max_tokens: int, expected: list[int]) -> None:
    ranked = [FACTS[2], FACTS[0], FACTS[1]]
    assert [fact_id for fact_id, _ in for_prompt(ranked, max_count, max_tokens, 4.0)] == expected
