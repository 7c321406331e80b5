"""The tools remember, forget and recall, and the commands /memory and /forget."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assistant.agent.tools import Tool, ToolContext, ToolError
from assistant.commands import CommandContext, Commands
from assistant.memory.factbook import FactBook

RECALL_LIMIT = 5


def _fact_id(raw: object) -> int:
    """A fact id from a tool argument or a command (`12`, `"12"`, `"#12"`)."""
    text = str(raw).strip().removeprefix("#")
    if isinstance(raw, bool) or not text.isdigit():
        raise ToolError(f"{raw!r} is not a fact id; ids are whole numbers such as 3")
    return int(text)


class Remember:
    """Keeps a fact, keyed by the call so a replayed turn keeps it once."""

    effect = True
    untrusted = False
    name = "remember"
    description = "Keep a fact about the person (name, family, likes) for later conversations."
    parameters: Mapping[str, Any] = {
        "type": "object",
        "properties": {"fact": {"type": "string", "description": "one short sentence"}},
        "required": ["fact"],
    }

    def __init__(self, book: FactBook) -> None:
        self.book = book

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        fact = await self.book.add(ctx.chat_id, str(args.get("fact") or ""), ctx.now, ctx.call_key or None)
        return json.dumps({"remembered": fact.text, "id": fact.id})


class Forget:
    effect = True
    untrusted = False
    name = "forget"
    description = "Forget a kept fact by its id."
    parameters: Mapping[str, Any] = {
        "type": "object",
        "properties": {"id": {"type": "integer"}},
        "required": ["id"],
    }

    def __init__(self, book: FactBook) -> None:
        self.book = book

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        fact_id = _fact_id(args.get("id"))
        await self.book.forget(ctx.chat_id, fact_id)
        return json.dumps({"forgotten": fact_id})


class Recall:
    effect = False
    untrusted = False
    name = "recall"
    description = "Search the facts kept about the person."
    parameters: Mapping[str, Any] = {
        "type": "object",
        "properties": {"query": {"type": "string"}},
        "required": ["query"],
    }

    def __init__(self, book: FactBook) -> None:
        self.book = book

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        ranked = await self.book.ranked(ctx.chat_id, str(args.get("query") or ""))
        return json.dumps({"facts": [{"id": f.id, "fact": f.text} for f in ranked[:RECALL_LIMIT]]})


def fact_tools(book: FactBook) -> list[Tool]:
    return [Remember(book), Forget(book), Recall(book)]


def add_commands(commands: Commands, book: FactBook) -> None:
    """Register /memory and /forget."""

    async def show(ctx: CommandContext) -> str:
        facts = await book.all(ctx.chat.id or 0)
        if not facts:
            return "I keep no facts about you in this chat."
        lines = [f"#{f.id} {f.text}" for f in facts]
        return "What I remember (forget one with /forget ID):\n" + "\n".join(lines)

    async def forget(ctx: CommandContext) -> str:
        try:
            fact_id = _fact_id(ctx.args)
            await book.forget(ctx.chat.id or 0, fact_id)
        except ToolError as exc:
            return f"Nothing forgotten: {exc}. Send /memory to see the ids."
        return f"Done: I have forgotten fact #{fact_id}."

    commands.add("memory", "the facts I keep about you, with ids", show)
    commands.add("forget", "forget one fact: /forget ID", forget)
