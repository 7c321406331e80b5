"""The tool registry: what the model may call, and how a call becomes a result it can read."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from assistant.types import Attachment

logger = logging.getLogger(__name__)

RESULT_LIMIT_CHARS = 8_000


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know about the turn that called it."""

    chat_id: int
    chat_key: str
    timezone: ZoneInfo
    now: datetime
    # Files tools attach to the turn's reply (a skill's outbox); the reply carries them.
    files: list[Attachment] = field(default_factory=list)


class ToolError(Exception):
    """A failure the model should read: bad arguments, an unknown id, a skill that failed."""


class Tool(Protocol):
    """Anything the model may call. `parameters` is a JSON Schema object."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def parameters(self) -> Mapping[str, Any]: ...

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str: ...


class ToolRegistry:
    """Tools by name; later parts of Hearth add theirs at start-up."""

    def __init__(self, tools: list[Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools or []:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def remove(self, name: str) -> None:
        """Take a tool away (an MCP server's tool list changed); unknown names are ignored."""
        self._tools.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __len__(self) -> int:
        return len(self._tools)

    def subset(self, names: Iterable[str]) -> ToolRegistry:
        """A registry of those of `names` that are registered here (the same tool objects)."""
        return ToolRegistry([self._tools[name] for name in names if name in self._tools])

    def names(self) -> list[str]:
        return sorted(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        """The tools in the form Ollama's `/api/chat` takes, in a stable order."""
        return [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": dict(tool.parameters),
                },
            }
            for tool in (self._tools[name] for name in self.names())
        ]

    async def run(self, name: str, args: Mapping[str, Any], ctx: ToolContext) -> str:
        """Run one call; every failure becomes a result the model can read, never an exception."""
        tool = self._tools.get(name)
        if tool is None:
            return error_result(f"there is no tool named {name!r}; use one of {self.names()}")
        try:
            result = await tool.call(args, ctx)
        except ToolError as exc:
            return error_result(str(exc))
        except Exception:
            logger.exception("tool %s failed", name)
            return error_result(f"the tool {name} failed unexpectedly")
        return cap(result)


def error_result(message: str) -> str:
    return json.dumps({"error": message})


def cap(text: str, limit: int = RESULT_LIMIT_CHARS) -> str:
    """Cut a result to `limit` characters, saying so, so one tool cannot flood the context."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… cut: {len(text) - limit} more characters]"
