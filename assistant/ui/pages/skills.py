"""Skills and MCP: what is loaded, the sandbox and its warm containers, the latest errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from assistant.keys import TOOLS
from assistant.sandbox.app import SANDBOX, SKILLS
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.tool import SkillTool
from assistant.ui.render import render

ROUTES = web.RouteTableDef()


@dataclass(frozen=True)
class SkillRow:
    skill: SkillManifest
    warm: int
    error_at: datetime | None
    error: str


def sandbox_state(app: web.Application) -> str:
    if SANDBOX not in app:
        return "off: no skills are loaded, so Docker is not used"
    sandbox = app[SANDBOX]
    if sandbox.error:
        return f"unavailable: {sandbox.error}"
    return f"running; {len(sandbox.pool)} warm containers (at most {sandbox.config.max_containers})"


def skill_rows(app: web.Application) -> list[SkillRow]:
    keys = app[SANDBOX].pool.keys() if SANDBOX in app else []
    warm = [name for name, _chat in keys]
    rows = []
    for name, skill in sorted(app[SKILLS].skills.items()):
        tool = app[TOOLS].get(name)
        error = tool.last_error if isinstance(tool, SkillTool) else None
        rows.append(SkillRow(skill, warm.count(name), error[0] if error else None, error[1] if error else ""))
    return rows


@ROUTES.get("/ui/skills")
async def skills(request: web.Request) -> web.Response:
    app = request.app
    return render(
        request,
        "skills.html",
        title="Skills and MCP",
        rows=skill_rows(app),
        errors=app[SKILLS].errors if SKILLS in app else [],
        sandbox=sandbox_state(app),
    )
