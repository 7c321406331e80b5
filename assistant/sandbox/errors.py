"""The few ways running a skill can fail, each something the caller can tell the model."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of every failure the sandbox reports."""


class ManifestError(SandboxError):
    """A skill's manifest is unusable; names the skill, the field and what is wrong."""

    def __init__(self, skill: str, field: str, problem: str) -> None:
        super().__init__(f"skill {skill!r}: {field}: {problem}")
        self.skill = skill
        self.field = field
        self.problem = problem


class ArgumentsError(SandboxError):
    """The model's arguments do not match the skill's schema; no container was touched."""


class SkillError(SandboxError):
    """The skill ran and raised, or refused; the message is the skill's own."""


class SkillTimeoutError(SandboxError):
    """The call ran past the skill's time limit and its container was killed."""


class WorkerError(SandboxError):
    """The worker died, answered malformed or oversized output; its container was discarded."""


class EngineUnavailableError(SandboxError):
    """No Docker engine answered, or the worker image could not be made."""


class WorkspaceFullError(SandboxError):
    """The call took its chat's workspace past HEARTH_WORKSPACE_MAX_MB; it was stopped and what it
    added was removed."""
