"""A team member: the agent loop under a role's own prompt, tools and model, with its tokens metered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.agent import prompt
from assistant.agent.model import Model, ModelReply
from assistant.agent.tools import ToolRegistry
from assistant.agent.turn import Agent, Guard, TurnInput
from assistant.types import ToolCall


class OverBudget(Exception):
    """The team has spent its token budget; no member makes another model call."""


@dataclass
class Meter:
    """Tokens spent by one delegate call, shared by its members."""

    limit: int
    spent: int = 0

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.limit


@dataclass
class Usage:
    """What one member has used so far; kept current so a member cut short still reports it."""

    steps: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)


class MeteredModel:
    """A model that counts into the member's usage and the team's meter, and refuses calls once the
    meter is spent (the call that crosses the line still finishes: its answer is worth keeping)."""

    def __init__(self, model: Model, meter: Meter, usage: Usage) -> None:
        self.model = model
        self.meter = meter
        self.usage = usage

    @property
    def name(self) -> str:
        return self.model.name

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply:
        if self.meter.exhausted:
            raise OverBudget
        reply = await self.model.chat(messages, tools)
        self.usage.steps += 1
        self.usage.prompt_tokens += reply.prompt_tokens
        self.usage.eval_tokens += reply.eval_tokens
        self.usage.tool_calls.extend(reply.tool_calls)
        self.meter.spent += reply.prompt_tokens + reply.eval_tokens
        return reply


class MemberAgent(Agent):
    """The agent loop with the role's instructions as its persona and the task as the only message."""

    def __init__(
        self,
        model: Model,
        tools: ToolRegistry,
        *,
        instructions: str,
        num_ctx: int,
        max_steps: int,
        guard: Guard | None = None,
    ) -> None:
        use_tools = len(tools) > 0
        super().__init__(model, tools, num_ctx=num_ctx, max_steps=max_steps, use_tools=use_tools, guard=guard)
        self.instructions = instructions

    def _prompt(self, data: TurnInput, now: datetime, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        local_now = now.astimezone(data.context.timezone)
        inputs = prompt.PromptInput(specs, [], data.new, local_now, self.num_ctx, persona=self.instructions)
        return prompt.build(inputs)
