"""What the rest of Hearth calls: list, run and build skills."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.errors import ArgumentsError, EngineUnavailableError
from assistant.sandbox.image import ensure_worker_image
from assistant.sandbox.manifest import SkillSet, load_skills
from assistant.sandbox.proxy import egress_image
from assistant.sandbox.runner import DockerSandbox, Sandbox
from assistant.sandbox.tool import SkillTool, call_skill


def list_skills(config: SandboxConfig) -> SkillSet:
    """The skills under `config.skills_dir`, with the errors of any that did not load."""
    return load_skills(config.skills_dir)


def format_skills(skills: SkillSet) -> str:
    """A listing for people: one line per skill, then one per broken manifest."""
    lines = [
        f"{s.name:<12} network={s.permissions.network:<6} workspace={s.permissions.workspace:<4} "
        f"timeout={s.limits.timeout_s:g}s  {s.description.splitlines()[0]}"
        for s in skills.skills.values()
    ]
    lines += [f"BROKEN {error}" for error in skills.errors]
    return "\n".join(lines) or "no skills found"


def skill_tools(sandbox: Sandbox, skills: SkillSet) -> list[SkillTool]:
    """One tool per loaded skill, for the agent's tool registry."""
    return [SkillTool(skill, sandbox) for skill in skills.skills.values()]


async def run_skill(config: SandboxConfig, name: str, json_args: str, chat_key: str = "cli") -> str:
    """Run one skill through a real, short-lived sandbox; raises SandboxError with a reason."""
    skill = list_skills(config).skills.get(name)
    if skill is None:
        raise ArgumentsError(f"there is no skill named {name!r}")
    try:
        args: Any = json.loads(json_args)
    except json.JSONDecodeError:
        raise ArgumentsError("the arguments are not valid JSON") from None
    # Its own instance label, so this run never removes a running server's containers.
    sandbox = DockerSandbox(replace(config, instance=f"{config.instance}-cli"), [skill])
    try:
        return await call_skill(sandbox, skill, args, chat_key)
    finally:
        await sandbox.close()


def build_images(config: SandboxConfig) -> list[str]:
    """The worker's and the egress proxy's image tags, each built through the engine first if
    missing. Blocking."""
    import docker

    try:
        client = docker.from_env()
    except docker.errors.DockerException as exc:
        raise EngineUnavailableError(f"no Docker engine answered: {exc}") from exc
    try:
        worker = ensure_worker_image(client, config.base_image, config.skills_dir, config.worker_dir)
        return [worker, egress_image(client, config.base_image, config.egress_dir)]
    finally:
        client.close()
