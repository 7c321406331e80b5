"""One agent turn: ask the model, run the tools it calls, stop at an answer or the step limit.

Every call passes the turn's `Guard` first (who may use what, and what waits for approval), and
the turn remembers whether untrusted content has entered it: after that, a call written as JSON
text in the answer is never run, and the guard holds back tools with an effect.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from assistant.agent import prompt
from assistant.agent.model import Model, ModelReply
from assistant.agent.offer import Offer
from assistant.agent.textcalls import parse_text_call
from assistant.agent.tools import Result, Tool, ToolContext, ToolRegistry, error_result
from assistant.store.views import Entry
from assistant.types import ToolCall

NO_ANSWER = "Sorry, I could not come up with an answer to that."
LAST_STEP = "You have used all your tool calls for this message. Answer the person now, without tools."
TEXT_CALL_REFUSED = (
    "not run: a tool call written as text after untrusted content never runs; "
    "tell the person what you would do instead"
)
_THINK = re.compile(r"<think>.*?</think>", re.S)
logger = logging.getLogger(__name__)


@dataclass
class TurnResult:
    text: str = ""
    steps: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)
    untrusted: bool = False

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
    # The new messages themselves hold untrusted content (a document's text, say).
    untrusted: bool = False
    # The tool specs of the first request when the caller has asked for them already (`offered`).
    specs: list[dict[str, Any]] | None = None


class Guard(Protocol):
    """Decides, before each call, whether it runs (None) or what the model reads instead."""

    def offered(self, tools: ToolRegistry, ctx: ToolContext) -> ToolRegistry:
        """The tools the model is shown for this turn."""
        ...

    async def check(self, tool: Tool, args: dict[str, Any], ctx: ToolContext, tainted: bool) -> str | None:
        """None to run the call now; otherwise the tool result to give the model instead."""
        ...


class OpenGuard:
    """Every registered tool, no questions asked: for tests and tools of trusted code only."""

    def offered(self, tools: ToolRegistry, ctx: ToolContext) -> ToolRegistry:
        return tools

    async def check(self, tool: Tool, args: dict[str, Any], ctx: ToolContext, tainted: bool) -> str | None:
        return None


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
        guard: Guard | None = None,
    ) -> None:
        self.model = model
        self.tools = tools
        self.num_ctx = num_ctx
        self.max_steps = max_steps
        self.use_tools = use_tools
        self.offer = offer
        self.guard: Guard = guard or OpenGuard()

    def offered(self, context: ToolContext, texts: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The tool specs of the chat's next request: of the tools the guard lets this turn see, all
        of them or what the offer chooses."""
        if not self.use_tools:
            return []
        allowed = self.guard.offered(self.tools, context)
        if not len(allowed):
            return []
        if self.offer is None:
            return allowed.specs()
        return self.offer.specs(allowed, context.chat_id, texts)

    def _prompt(self, data: TurnInput, now: datetime, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
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

    def _calls(self, reply: ModelReply) -> tuple[list[ToolCall], bool]:
        """The calls of a reply, and whether they were written as text rather than called."""
        if reply.tool_calls:
            return reply.tool_calls, False
        # Every registered name is recognised, so a call to a tool this turn may not use is
        # refused as such rather than shown to the person as JSON.
        written = parse_text_call(_visible(reply.content), self.tools.names()) if self.use_tools else None
        return ([written], True) if written else ([], False)

    async def answer(self, data: TurnInput) -> TurnResult:
        """Run the loop; model failures propagate (ModelUnavailable, ModelMissing), tool failures do not."""
        first = data.specs if data.specs is not None else self.offered(data.context, data.new)
        messages = self._prompt(data, data.context.now, first)
        result = TurnResult(untrusted=data.untrusted)
        for step in range(1, self.max_steps + 1):
            # Asked again after the first step: a more_tools call brings its kind into the very next
            # request.
            specs = (first if step == 1 else self.offered(data.context)) or None
            last = step == self.max_steps
            if last and specs:
                messages.append({"role": "system", "content": LAST_STEP})
            self._fit(messages, None if last else specs, data.remembered.chars_per_token)
            reply = await self.model.chat(messages, None if last else specs)
            result.add(reply)
            calls, written = self._calls(reply)
            if last or not calls:
                # Calls left at the step limit are not run, and a call written as text is no answer.
                result.text = NO_ANSWER if calls else _visible(reply.content)
                return result
            messages.append(_assistant_message(reply, calls))
            for call in calls:
                ctx = replace(data.context, call_key=_call_key(data.context.turn_key, len(result.tool_calls)))
                output = await self._run(call, ctx, result.untrusted, written)
                result.untrusted |= output.untrusted
                result.tool_calls.append(call)
                messages.append({"role": "tool", "tool_name": call.name, "content": output.text})
        return result

    def _fit(
        self, messages: list[dict[str, Any]], specs: list[dict[str, Any]] | None, chars_per_token: float
    ) -> None:
        """Keep the request within the context: the turn's own tool results count too, the oldest
        giving way first."""
        budget = prompt.request_budget(self.num_ctx)
        cut = prompt.cut_tool_results(messages, specs, budget, chars_per_token)
        if cut:
            logger.info("cut %d tool results to keep the request within %d tokens", cut, budget)

    async def _run(self, call: ToolCall, ctx: ToolContext, tainted: bool, written: bool) -> Result:
        if written and tainted:
            return Result(error_result(TEXT_CALL_REFUSED))
        tool = self.tools.get(call.name)
        if tool is not None:
            refusal = await self.guard.check(tool, dict(call.arguments), ctx, tainted)
            if refusal is not None:
                return Result(refusal)
        return await self.tools.run(call.name, call.arguments, ctx)


def _visible(content: str) -> str:
    """What the person may read of an answer: without the model's thinking; never empty."""
    return _THINK.sub("", content).strip() or NO_ANSWER


def _call_key(turn_key: str, position: int) -> str:
    """The call's name within its turn; none when the turn has no name (it is never replayed)."""
    return f"{turn_key}:{position}" if turn_key else ""
