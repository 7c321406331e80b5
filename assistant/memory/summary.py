"""Folding a chat's oldest history into its running summary, written by the model itself."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.agent.model import Model
from assistant.agent.prompt import (
    PER_MESSAGE_TOKENS,
    SUMMARY_HEADER,
    answer_reserve,
    estimate_tokens,
    fit_history,
)
from assistant.store.memory import Summary
from assistant.store.views import Entry

SUMMARY_PROMPT = (
    "You keep the running summary of a conversation between a person and their assistant. "
    "Rewrite the summary so that it also covers the new lines. Keep names, facts about the person, "
    "preferences, dates, decisions and open tasks; leave out small talk. "
    "Answer with the summary only, in plain sentences, at most {words} words."
)
# After a fold the newest history that fits in this share of its budget stays word for word, so the
# next fold comes only after the history has grown by the other share again.
KEEP_SHARE = 0.5
WORDS_PER_TOKEN = 0.6
_THINK = re.compile(r"<think>.*?</think>", re.S)


@dataclass(frozen=True)
class Plan:
    """How a chat's unsummarised history splits: `skip` and `fold` go into the summary (`skip`
    unread, being more than one summary call can read), `keep` goes into the prompt."""

    skip: list[Entry]
    fold: list[Entry]
    keep: list[Entry]

    @property
    def covered(self) -> list[Entry]:
        return [*self.skip, *self.fold]


def summary_tokens(num_ctx: int) -> int:
    """The most tokens the summary may take in a prompt."""
    return max(64, (num_ctx - answer_reserve(num_ctx)) // 8)


def fold_limit(num_ctx: int, chars_per_token: float) -> int:
    """The most tokens of history one summary call may read, so that the call fits the context."""
    fixed = estimate_tokens(SUMMARY_PROMPT, chars_per_token) + summary_tokens(num_ctx) + 16
    return num_ctx - answer_reserve(num_ctx) - fixed


def plan(history: Sequence[Entry], budget_tokens: int, limit_tokens: int, chars_per_token: float) -> Plan:
    """Nothing to fold while the history fits its budget; otherwise keep the newest that fit in
    KEEP_SHARE of it and fold the older entries, as many of the newest of them as one call can read."""
    total = sum(estimate_tokens(e.text, chars_per_token) for e in history)
    if total <= budget_tokens:
        return Plan([], [], list(history))
    keep = fit_history(history, int(budget_tokens * KEEP_SHARE), chars_per_token)
    older = list(history[: len(history) - len(keep)])
    fold = fit_history(older, limit_tokens, chars_per_token)
    return Plan(older[: len(older) - len(fold)], fold, keep)


def advanced(old: Summary, text: str, covered: Sequence[Entry]) -> Summary:
    """The summary `text` with its markers moved past every entry in `covered`."""
    users = [e.id for e in covered if e.role == "user"]
    replies = [e.id for e in covered if e.role == "assistant"]
    return Summary(
        text,
        max([old.through_message_id, *users]),
        max([old.through_reply_id, *replies]),
        old.folds + 1,
    )


def summary_request(old: str, entries: Sequence[Entry], words: int) -> list[dict[str, Any]]:
    """The messages of one summary call."""
    lines = [f"{'Person' if e.role == 'user' else 'Assistant'}: {e.text}" for e in entries]
    body = f"Summary so far:\n{old or '(none yet)'}\n\nNew lines:\n" + "\n".join(lines)
    return [
        {"role": "system", "content": SUMMARY_PROMPT.format(words=words)},
        {"role": "user", "content": body},
    ]


def clip(text: str, max_tokens: int, chars_per_token: float) -> str:
    """`text` cut at a word so that the summary message stays within `max_tokens`."""
    room = int((max_tokens - PER_MESSAGE_TOKENS) * chars_per_token) - len(SUMMARY_HEADER) - 1
    text = " ".join(_THINK.sub("", text).split())
    if len(text) <= room:
        return text
    return text[: max(0, room - 1)].rsplit(" ", 1)[0] + "…"


async def summarise(model: Model, old: str, entries: Sequence[Entry], num_ctx: int, ratio: float) -> str:
    """The new running summary: `old` with `entries` folded in; `old` again if the model says nothing.
    Model failures propagate (ModelUnavailable), like a turn's."""
    cap = summary_tokens(num_ctx)
    reply = await model.chat(summary_request(old, entries, int(cap * WORDS_PER_TOKEN)), None)
    return clip(reply.content, cap, ratio) or old
