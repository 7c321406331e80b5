"""A turn's memory: the chat's facts, its running summary, and the recent history that fits."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.agent import prompt
from assistant.agent.model import Model
from assistant.agent.tools import ToolContext
from assistant.memory import summary
from assistant.memory.factbook import FactBook
from assistant.memory.facts import Known, for_prompt
from assistant.memory.tokens import TokenCounter
from assistant.store import Store, memory
from assistant.store.memory import Summary
from assistant.store.recent import Recent
from assistant.store.tables import Chat, Fact
from assistant.store.views import Entry

# Unsummarised entries read per turn; normally far fewer exist, as a fold follows every overflow.
HISTORY_LIMIT = 500


@dataclass(frozen=True)
class Limits:
    num_ctx: int
    max_facts: int


def facts_tokens(num_ctx: int) -> int:
    """The most tokens the facts may take in the prompt's prefix."""
    return max(64, (num_ctx - prompt.answer_reserve(num_ctx)) // 8)


class Memory:
    """Prepares each agent turn's history and memory, folding old history into the summary first."""

    def __init__(
        self, store: Store, model: Model, book: FactBook, counter: TokenCounter, limits: Limits
    ) -> None:
        self.store = store
        self.model = model
        self.book = book
        self.counter = counter
        self.limits = limits
        self.summary_calls = 0
        self.last_build_s = 0.0
        # Only on SQLite (see store.recent); elsewhere each turn reads its history whole.
        self.recent = Recent() if store.engine.dialect.name == "sqlite" else None

    async def prepare(
        self,
        chat: Chat,
        new: Sequence[str],
        context: ToolContext,
        specs: Sequence[Mapping[str, Any]],
    ) -> tuple[list[Entry], prompt.Remembered]:
        """The history to send and what memory adds to the prompt. At most one summary call is made
        (when the unsummarised history outgrows its budget); model failures propagate."""
        began = time.perf_counter()
        ratio = self.counter.chars_per_token
        recalled = await memory.recall(self.store, chat, HISTORY_LIMIT, self.recent)
        facts = await self._facts(chat, new, ratio, recalled.facts)
        current, found = recalled.summary, recalled.history
        local_now = context.now.astimezone(context.timezone)
        without = prompt.Remembered(facts, "", ratio)
        data = prompt.PromptInput(specs, [], new, local_now, self.limits.num_ctx, remembered=without)
        budget = self._budget(data, current, ratio)
        split = summary.plan(found, budget, summary.fold_limit(self.limits.num_ctx, ratio), ratio)
        self.last_build_s = time.perf_counter() - began
        if split.covered:
            current = await self._fold(chat, current, split, context, ratio)
        return split.keep, prompt.Remembered(facts, current.text, ratio)

    def _budget(self, data: prompt.PromptInput, current: Summary, ratio: float) -> int:
        """History's budget, leaving room for the summary at its largest."""
        room = summary.summary_tokens(self.limits.num_ctx)
        if current.text:
            room = max(room, prompt.estimate_tokens(prompt.summary_text(current.text), ratio))
        return prompt.history_budget(data) - room

    async def _facts(
        self, chat: Chat, new: Sequence[str], ratio: float, facts: list[Fact]
    ) -> list[tuple[int, str]]:
        """All the chat's facts when they fit; else the most relevant to the new messages."""
        cap = facts_tokens(self.limits.num_ctx)
        known = [Known(f.id or 0, f.text) for f in facts]
        chosen = for_prompt(known, self.limits.max_facts, cap, ratio)
        if len(chosen) == len(known):
            return chosen
        ranked = await self.book.ranked(chat.id or 0, " ".join(new), facts)
        return for_prompt(ranked, self.limits.max_facts, cap, ratio)

    async def _fold(
        self, chat: Chat, current: Summary, split: summary.Plan, context: ToolContext, ratio: float
    ) -> Summary:
        text = current.text
        if split.fold:
            self.summary_calls += 1
            text = await summary.summarise(self.model, text, split.fold, self.limits.num_ctx, ratio)
        folded = summary.advanced(current, text, split.covered)
        await memory.save_summary(self.store, chat, folded, context.now)
        return folded
