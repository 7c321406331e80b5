"""Skills in locked-down Docker containers, kept warm per (skill, chat)."""

from __future__ import annotations

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.docker_sandbox import DockerSandbox, Sandbox
from assistant.sandbox.errors import (
    ArgumentsError,
    EngineUnavailableError,
    ManifestError,
    SandboxError,
    SkillError,
    SkillTimeoutError,
    WorkerError,
)
from assistant.sandbox.manifest import SkillManifest, SkillSet, load_skills
from assistant.sandbox.service import (
    SANDBOX_KEY,
    SKILLS_KEY,
    build_image,
    format_skills,
    list_skills,
    run_skill,
    sandbox_context,
    skill_tools,
)
from assistant.sandbox.tool import SkillTool

__all__ = [
    "SANDBOX_KEY",
    "SKILLS_KEY",
    "ArgumentsError",
    "DockerSandbox",
    "EngineUnavailableError",
    "ManifestError",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SkillError",
    "SkillManifest",
    "SkillSet",
    "SkillTimeoutError",
    "SkillTool",
    "WorkerError",
    "build_image",
    "format_skills",
    "list_skills",
    "load_skills",
    "run_skill",
    "sandbox_context",
    "skill_tools",
]
