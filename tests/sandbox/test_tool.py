"""Skills as tools: arguments checked before the sandbox, failures turned into ToolErrors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistant.agent.tools import ToolContext, ToolError, ToolRegistry
from assistant.sandbox.errors import (
    EngineUnavailableError,
    SandboxError,
    SkillError,
    SkillTimeoutError,
    WorkerError,
)
from assistant.sandbox.manifest import SkillManifest, SkillSet
from assistant.sandbox.service import format_skills, skill_tools
from assistant.sandbox.tool import SkillTool

SKILL = SkillManifest(
    name="notes",
    description="Keep notes.",
    parameters={
        "type": "object",
        "required": ["action"],
        "properties": {"action": {"enum": ["list"]}},
    },
)
CTX = ToolContext(chat_id=1, chat_key="console:me", timezone=ZoneInfo("UTC"), now=datetime.now(UTC))


@dataclass
class FakeSandbox:
    outcome: str | SandboxError = "ok"
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)

    keys: list[str] = field(default_factory=list)

    async def run(
        self, skill: SkillManifest, args: Mapping[str, Any], chat_key: str, call_key: str = ""
    ) -> str:
        self.calls.append((skill.name, dict(args), chat_key))
        self.keys.append(call_key)
        if isinstance(self.outcome, SandboxError):
            raise self.outcome
        return self.outcome


async def test_a_valid_call_reaches_the_sandbox_with_the_chat() -> None:
    sandbox = FakeSandbox("1. milk")
    tool = SkillTool(SKILL, sandbox)
    assert await tool.call({"action": "list"}, CTX) == "1. milk"
    assert sandbox.calls == [("notes", {"action": "list"}, "console:me")]


async def test_invalid_arguments_never_reach_the_sandbox() -> None:
    sandbox = FakeSandbox()
    with pytest.raises(ToolError, match="invalid arguments for notes"):
        await SkillTool(SKILL, sandbox).call({"action": "rm -rf"}, CTX)
    assert sandbox.calls == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (SkillError("KeyError: 'x'"), "notes failed: KeyError: 'x'"),
        (SkillTimeoutError("slow"), "ran past its limit of 10 s"),
        (WorkerError("the worker stopped (out of memory)"), "stopped unexpectedly"),
        (EngineUnavailableError("no engine at /var/run/docker.sock"), "sandbox is unavailable"),
    ],
)
async def test_failures_become_tool_errors(error: SandboxError, expected: str) -> None:
    with pytest.raises(ToolError, match=expected.replace("(", r"\(")) as caught:
        await SkillTool(SKILL, FakeSandbox(error)).call({"action": "list"}, CTX)
    assert "docker.sock" not in str(caught.value)


async def test_the_registry_reports_skill_failures_to_the_model() -> None:
    registry = ToolRegistry(
        list(skill_tools(FakeSandbox(SkillError("nope")), SkillSet({"notes": SKILL}, [])))
    )
    assert registry.specs()[0]["function"]["parameters"] == dict(SKILL.parameters)
    result = await registry.run("notes", {"action": "list"}, CTX)
    assert result.untrusted
    assert result.error
    assert result.text == '<untrusted source="tool notes">\n{"error": "notes failed: nope"}\n</untrusted>'


def test_the_listing_shows_skills_and_broken_manifests() -> None:
    from assistant.sandbox.errors import ManifestError

    text = format_skills(SkillSet({"notes": SKILL}, [ManifestError("bad", "name", "is missing")]))
    assert "notes" in text
    assert "network=none" in text
    assert "BROKEN skill 'bad': name: is missing" in text
