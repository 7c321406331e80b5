"""Skills as agent tools: validated arguments, a sandboxed run, failures the model can read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from assistant.agent.tools import ToolContext, ToolError
from assistant.sandbox.arguments import validate_arguments
from assistant.sandbox.errors import (
    ArgumentsError,
    EngineUnavailableError,
    SandboxError,
    SkillError,
    SkillTimeoutError,
    WorkspaceFullError,
)
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.protocol import SkillOutput
from assistant.sandbox.runner import Sandbox
from assistant.store.columns import utcnow

logger = logging.getLogger(__name__)


async def call_skill(
    sandbox: Sandbox, skill: SkillManifest, args: Any, chat_key: str, call_key: str = ""
) -> str:
    """Validate `args` against the skill's schema (no container yet), then run it in `sandbox`.
    `call_key` reaches the skill, which keys what it creates by it (so a replayed call adds once)."""
    valid = validate_arguments(skill.parameters, args)
    return await sandbox.run(skill, valid, chat_key, call_key)


def tool_error_message(skill: SkillManifest, exc: SandboxError) -> str:
    """What the model reads when a skill call fails."""
    if isinstance(exc, ArgumentsError):
        return f"invalid arguments for {skill.name}: {exc}"
    if isinstance(exc, SkillError | WorkspaceFullError):
        return f"{skill.name} failed: {exc}"
    if isinstance(exc, SkillTimeoutError):
        return f"{skill.name} ran past its limit of {skill.limits.timeout_s:g} s and was stopped"
    if isinstance(exc, EngineUnavailableError):
        return f"{skill.name} cannot run right now: the skill sandbox is unavailable"
    return f"{skill.name} stopped unexpectedly: {exc}"


class SkillTool:
    """One skill as a `Tool`; raises ToolError for bad arguments, failure or timeout.

    Skill code is untrusted, so its output always is. It has an effect when it can reach the
    network or write the chat's workspace."""

    untrusted = True

    def __init__(self, skill: SkillManifest, sandbox: Sandbox) -> None:
        self.skill = skill
        self._sandbox = sandbox
        # The latest failure and when it happened, for the dashboard.
        self.last_error: tuple[datetime, str] | None = None

    @property
    def effect(self) -> bool:
        permissions = self.skill.permissions
        return permissions.network == "egress" or permissions.workspace == "chat"

    @property
    def name(self) -> str:
        return self.skill.name

    @property
    def description(self) -> str:
        return self.skill.description

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self.skill.parameters

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        try:
            output = await call_skill(self._sandbox, self.skill, args, ctx.chat_key, ctx.call_key)
        except SandboxError as exc:
            if not isinstance(exc, ArgumentsError | SkillError):
                logger.warning("skill %s in chat %s: %s", self.name, ctx.chat_key, exc)
            self.last_error = (utcnow(), tool_error_message(self.skill, exc))
            raise ToolError(self.last_error[1]) from exc
        files = output.files if isinstance(output, SkillOutput) else ()
        if not files:
            return str(output)
        # The files ride on the turn's reply; the model is told so, and told their names.
        ctx.files.extend(files)
        listed = ", ".join(f"{f.name} ({len(f.data)} bytes)" for f in files)
        return f"{output}\n[attached to your reply: {listed}]"
