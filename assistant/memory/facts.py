"""Ranking a chat's facts against a query: by embeddings when there are some, else by shared words."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.agent.prompt import estimate_tokens

_WORD = re.compile(r"\w+")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "they",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
    ]
)


@dataclass(frozen=True)
class Known:
    """A fact as ranking sees it."""

    id: int
    text: str
    vector: Sequence[float] | None = None


def words(text: str) -> set[str]:
    """The lower-cased words of `text` that carry meaning."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS and len(w) > 1}


def keyword_score(query: set[str], text: str) -> float:
    """Shared words, damped for long facts so a short exact match wins."""
    mine = words(text)
    if not mine or not query:
        return 0.0
    return len(query & mine) / math.sqrt(len(mine))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0 for vectors of different sizes or of zero length."""
    if len(a) != len(b):
        return 0.0
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


def rank(facts: Sequence[Known], query: str, query_vector: Sequence[float] | None = None) -> list[Known]:
    """The facts, most relevant to `query` first; ties go to the newer fact. With `query_vector`,
    facts with a vector rank by cosine, and facts without one come after them by shared words."""
    asked = words(query)

    def score(fact: Known) -> tuple[int, float, int]:
        if query_vector is not None and fact.vector is not None:
            return (1, cosine(query_vector, fact.vector), fact.id)
        return (0, keyword_score(asked, fact.text), fact.id)

    return sorted(facts, key=score, reverse=True)


def for_prompt(
    ranked: Sequence[Known], max_count: int, max_tokens: int, chars_per_token: float
) -> list[tuple[int, str]]:
    """The most relevant facts that fit `max_count` and `max_tokens`, as (id, text) in id order, so
    the prompt's prefix changes only when the chosen set does."""
    chosen: list[Known] = []
    for fact in ranked[:max_count]:
        max_tokens -= estimate_tokens(fact.text, chars_per_token)
        if max_tokens < 0:
            break
        chosen.append(fact)
    return [(fact.id, fact.text) for fact in sorted(chosen, key=lambda f: f.id)]
