"""One agent turn: ask the model, run the tools it calls, stop at an answer or the step limit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.agent import prompt
from assistant.agent.model import Model, ModelReply
from assistant.agent.offer import Offer
from assistant.agent.textcalls import parse_text_call
from assistant.agent.tools import ToolContext, ToolRegistry
from assistant.store.views import Entry
from assistant.types import ToolCall

NO_ANSWER = "Sorry, I could not come up with an answer to that."
LAST_STEP = "You have used all your tool calls for this message. Answer the person now, without tools."
_THINK = re.compile(r"<think>.*?</think>", re.S)


@dataclass
class TurnResult:
    text: str = ""
    steps: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)

    def add(self, reply: ModelReply) -> None:
        self.steps += 1
        self.prompt_tokens += reply.prompt_tokens
        self.eval_tokens += reply.eval_tokens


@dataclass(frozen=True)
class TurnInput:
    history: Sequence[Entry]
    new: Sequence[str]
    context: ToolContext
    remembered: prompt.Remembered = prompt.NOTHING
    images: Sequence[Sequence[str]] = ()  # base64 images for each new message, for a model that sees


def _assistant_message(reply: ModelReply, calls: list[ToolCall]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": reply.content,
        "tool_calls": [{"function": {"name": c.name, "arguments": dict(c.arguments)}} for c in calls],
    }


class Agent:
    """Answers a chat's new messages with the model and the tools in the registry."""

    def __init__(
        self,
        model: Model,
        tools: ToolRegistry,
        *,
        num_ctx: int,
        max_steps: int,
        use_tools: bool,
        offer: Offer | None = None,
    ) -> None:
        self.model = model
        self.tools = tools
        self.num_ctx = num_ctx
        self.max_steps = max_steps
        self.use_tools = use_tools
        self.offer = offer

    def offered(self, context: ToolContext, texts: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The tool specs of the chat's next request: all of them, or what the offer chooses."""
        if not self.use_tools or not len(self.tools):
            return []
        if self.offer is None:
            return self.tools.specs()
        return self.offer.specs(self.tools, context.chat_id, texts)

    def _prompt(self, data: TurnInput, now: datetime) -> list[dict[str, Any]]:
        specs = self.offered(data.context, data.new)
        local_now = now.astimezone(data.context.timezone)
        return prompt.build(
            prompt.PromptInput(
                specs,
                data.history,
                data.new,
                local_now,
                self.num_ctx,
                remembered=data.remembered,
                images=data.images,
            )
        )

    def _calls(self, reply: ModelReply) -> list[ToolCall]:
        if reply.tool_calls:
            return reply.tool_calls
        written = parse_text_call(reply.content, self.tools.names()) if self.use_tools else None
        return [written] if written else []

    async def answer(self, data: TurnInput) -> TurnResult:
        """Run the loop; model failures propagate (ModelUnavailable, ModelMissing), tool failures do not."""
        messages = self._prompt(data, data.context.now)
        result = TurnResult()
        for step in range(1, self.max_steps + 1):
            # Asked again each step: a more_tools call brings its kind into the very next request.
            specs = self.offered(data.context) or None
            last = step == self.max_steps
            if last and specs:
                messages.append({"role": "system", "content": LAST_STEP})
            reply = await self.model.chat(messages, None if last else specs)
            result.add(reply)
            calls = [] if last else self._calls(reply)
            if not calls:
                result.text = _THINK.sub("", reply.content).strip() or NO_ANSWER
                return result
            messages.append(_assistant_message(reply, calls))
            for call in calls:
                output = await self.tools.run(call.name, call.arguments, data.context)
                messages.append({"role": "tool", "tool_name": call.name, "content": output})
            result.tool_calls.extend(calls)
        return result
