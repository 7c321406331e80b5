"""The sandbox in the application: one tool per skill, and the warm pool started and stopped with the app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from assistant.keys import SETTINGS, TOOLS
from assistant.sandbox.config import sandbox_config
from assistant.sandbox.egress import allowed
from assistant.sandbox.errors import SandboxError
from assistant.sandbox.manifest import SkillSet
from assistant.sandbox.runner import DockerSandbox
from assistant.sandbox.service import list_skills, skill_tools

logger = logging.getLogger(__name__)

SANDBOX = web.AppKey("sandbox", DockerSandbox)
SKILLS = web.AppKey("skills", SkillSet)


async def sandbox_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load the skills, add one tool per skill, start the sandbox if Docker answers, and stop it
    after. With no skills, Docker is never touched."""
    config = sandbox_config(app[SETTINGS])
    skills = list_skills(config)
    app[SKILLS] = skills
    if not skills.skills:
        yield
        return
    allowed(config.egress_allow)  # a bad HEARTH_EGRESS_ALLOW stops Hearth here, saying why
    sandbox = DockerSandbox(config, list(skills.skills.values()))
    app[SANDBOX] = sandbox
    for tool in skill_tools(sandbox, skills):
        app[TOOLS].add(tool)
    try:
        await sandbox.start()
    except SandboxError as exc:
        # Hearth serves on without Docker; skill calls then answer that it is unavailable.
        logger.exception("the skill sandbox could not start")
        sandbox.error = str(exc)
    yield
    await sandbox.close()
