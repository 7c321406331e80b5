"""A fake Ollama responder that answers by role, read from the system prompt, with scripted behaviour."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.ollama import Step

_ROLE = re.compile(r"You are the (\w[\w-]*)")
LEAD = "lead"


def role_of(body: dict[str, Any]) -> str:
    """`researcher` for a member whose instructions say so; `lead` for Hearth's own persona."""
    messages = body.get("messages") or []
    system = str(messages[0].get("content", "")) if messages else ""
    found = _ROLE.search(system)
    return found.group(1) if found else LEAD


@dataclass
class TeamResponder:
    """The lead delegates `tasks` once, then answers with what the tool said; members answer per role:
    `steps[role]` (a Step, delays and failures included) or `"<role> did: <task>"`; after a tool result,
    `"<role> read: <result>"`."""

    tasks: list[dict[str, str]] = field(default_factory=list)
    steps: dict[str, Step] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, body: dict[str, Any]) -> Step:
        role = role_of(body)
        messages = body.get("messages") or []
        self.seen.append((role, str(body.get("model"))))
        if role == LEAD:
            if messages[-1].get("role") == "tool":
                return Step(content="lead: " + str(messages[-1].get("content")))
            return Step(tool_calls=[{"name": "delegate", "arguments": {"tasks": self.tasks}}])
        if messages[-1].get("role") == "tool":
            return Step(content=f"{role} read: {messages[-1].get('content')}")
        if role in self.steps:
            return self.steps[role]
        return Step(content=f"{role} did: {messages[-1].get('content')}")


def results(content: str) -> list[dict[str, Any]]:
    """The per-member entries of a delegate result."""
    entries: list[dict[str, Any]] = json.loads(content)["results"]
    return entries
