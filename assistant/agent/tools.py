"""The tool registry: what the model may call, and how a call becomes a result it can read.

A tool declares two traits as class attributes, both read with safe defaults by `has_effect` and
`output_untrusted`: `effect` (it creates, changes or sends something: jobs, facts, notes, egress,
delegation) and `untrusted` (what it returns may have been written by someone else: every skill,
MCP and web tools). A tool that says nothing counts as both. A call may also return a `Result`
whose `untrusted` flag says so for that call only (a team whose members read the web).
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from assistant.access.content import as_data
from assistant.types import Attachment

logger = logging.getLogger(__name__)

RESULT_LIMIT_CHARS = 8_000


ROLES = ("owner", "member")


@dataclass(frozen=True)
class Trust:
    """On whose behalf a call runs, and who can be asked.

    `role` is the chat's role ("owner" or "member"); a job acts with its chat's role. `unattended`
    marks a job's run: nobody can be asked, so effect tools run only if named in `approved_tools`
    (granted when the job was created). `may_ask` is False where no approval can be requested
    (team members). `approved` is True only for a call the person approved.
    """

    role: str = "member"
    unattended: bool = False
    approved_tools: frozenset[str] = frozenset()
    may_ask: bool = True
    approved: bool = False


@dataclass(frozen=True)
class ToolContext:
    """What a tool may know about the turn that called it.

    `turn_key` names the turn (its first message, `m17`); `call_key` names one call in it
    (`m17:2`, the call's position). A tool with an effect keys what it creates by `call_key`, so
    a turn replayed after a crash never creates it twice.
    """

    chat_id: int
    chat_key: str
    timezone: ZoneInfo
    now: datetime
    # Files tools attach to the turn's reply (a skill's outbox); the reply carries them.
    files: list[Attachment] = field(default_factory=list)
    trust: Trust = Trust()
    turn_key: str = ""
    call_key: str = ""


@dataclass(frozen=True)
class Result:
    """What a call gave back: the text the model reads, and whether someone else may have written it."""

    text: str
    untrusted: bool = False
    error: bool = False


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

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str | Result: ...


def has_effect(tool: Tool) -> bool:
    """Whether a call changes something; a tool that does not say counts as having an effect."""
    return bool(getattr(tool, "effect", True))


def output_untrusted(tool: Tool) -> bool:
    """Whether what the tool returns may be an attacker's; a tool that does not say counts as such."""
    return bool(getattr(tool, "untrusted", True))


def approval_reason(tool: Tool, args: Mapping[str, Any]) -> str | None:
    """Why this call needs the person's approval whatever the turn has seen, or None.

    A tool may define `needs_approval(args) -> str | None` for calls that grant something lasting
    (a job allowed to use tools unattended)."""
    check = getattr(tool, "needs_approval", None)
    reason = check(args) if callable(check) else None
    return reason if isinstance(reason, str) and reason else None


# A tool's spec, kept while the tool lives and its description and parameters stay the same objects:
# a request then carries the same spec objects from turn to turn, whose JSON is written once
# (`specjson`). Specs are never changed once made.
_specs: weakref.WeakKeyDictionary[Tool, tuple[str, Mapping[str, Any], dict[str, Any]]]
_specs = weakref.WeakKeyDictionary()


def _spec(tool: Tool) -> dict[str, Any]:
    function = {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)}
    return {"type": "function", "function": function}


def spec_of(tool: Tool) -> dict[str, Any]:
    """The tool in the form Ollama's `/api/chat` takes."""
    try:
        known = _specs.get(tool)
    except TypeError:  # a tool that cannot be weakly referenced or hashed gets a new spec each time
        return _spec(tool)
    if known is not None and known[0] is tool.description and known[1] is tool.parameters:
        return known[2]
    made = _spec(tool)
    _specs[tool] = (tool.description, tool.parameters, made)
    return made


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
        return [spec_of(self._tools[name]) for name in self.names()]

    async def run(self, name: str, args: Mapping[str, Any], ctx: ToolContext) -> Result:
        """Run one call; every failure becomes a result the model can read, never an exception.
        Untrusted output comes back cleaned and wrapped as data."""
        tool = self._tools.get(name)
        if tool is None:
            message = f"there is no tool named {name!r}; use one of {self.names()}"
            return Result(error_result(message), error=True)
        untrusted = output_untrusted(tool)
        try:
            found = await tool.call(args, ctx)
        except ToolError as exc:
            # A skill's error message is the skill's own words.
            return _finish(error_result(str(exc)), untrusted, name, error=True)
        except Exception:
            logger.exception("tool %s failed", name)
            return Result(error_result(f"the tool {name} failed unexpectedly"), error=True)
        if isinstance(found, Result):
            return _finish(found.text, found.untrusted, name, found.error)
        return _finish(found, untrusted, name)


def _finish(text: str, untrusted: bool, name: str, error: bool = False) -> Result:
    if not untrusted:
        return Result(cap(text), error=error)
    return Result(as_data(cap(text), f"tool {name}"), untrusted=True, error=error)


def error_result(message: str) -> str:
    return json.dumps({"error": message})


def cap(text: str, limit: int = RESULT_LIMIT_CHARS) -> str:
    """Cut a result to `limit` characters, saying so, so one tool cannot flood the context."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… cut: {len(text) - limit} more characters]"
