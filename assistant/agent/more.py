"""`more_tools`: the small tool with which the model brings the kinds a request left out into the
chat's next requests (see `offer`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assistant.agent.offer import MORE_TOOLS, Offer, kind_of
from assistant.agent.tools import ToolContext, ToolError, ToolRegistry
from assistant.agent.traits import Traits


class MoreTools:
    """The small tool that brings the other kinds into the chat's requests."""

    name = MORE_TOOLS
    description = "Get more tools for this chat."
    traits = Traits(effect=False, untrusted_output=False)
    effect, untrusted = False, False
    parameters: Mapping[str, Any] = {"type": "object", "properties": {"kind": {"type": "string"}}}

    def __init__(self, offer: Offer, registry: ToolRegistry) -> None:
        self.offer = offer
        self.registry = registry

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        kinds = self.offer.kinds(self.registry)
        kind = args.get("kind")
        tool = self.registry.get(kind) if isinstance(kind, str) and kind not in kinds else None
        if tool is not None and tool.name != MORE_TOOLS:
            kind = kind_of(tool)  # a model may name the tool it wants rather than its kind
        if not isinstance(kind, str) or kind not in kinds:
            raise ToolError(f"unknown kind {kind!r}; use one of {sorted(kinds)}")
        self.offer.activate(ctx.chat_id, kind, tool.name if tool is not None else None)
        offered = {str(spec["function"]["name"]) for spec in self.offer.specs(self.registry, ctx.chat_id)}
        available = [t.name for t in kinds[kind].tools if t.name in offered]
        if not available:
            return json.dumps({"now_available": [], "note": "these tools are too big for one request"})
        return json.dumps({"now_available": available})
