"""The `delegate` tool: the lead hands parts of a task to a team and reads back what each member did."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assistant.agent.tools import RESULT_LIMIT_CHARS, Result, ToolContext, ToolError
from assistant.team.roles import Role
from assistant.team.service import Assignment, Outcome, Swarm

NAME = "delegate"


def parse_tasks(args: Mapping[str, Any], roles: Mapping[str, Role], max_tasks: int) -> list[Assignment]:
    """The assignments in `args`, or a ToolError the model can act on."""
    tasks = args.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise ToolError('give "tasks": a list of {"role": ..., "task": ...}')
    if len(tasks) > max_tasks:
        raise ToolError(f"at most {max_tasks} tasks per call; you gave {len(tasks)}")
    return [_assignment(item, roles) for item in tasks]


def _assignment(item: Any, roles: Mapping[str, Role]) -> Assignment:
    if not isinstance(item, dict):
        raise ToolError('each task must be an object {"role": ..., "task": ...}')
    role, task = item.get("role"), item.get("task")
    if not isinstance(role, str) or role not in roles:
        raise ToolError(f"unknown role {role!r}; use one of {sorted(roles)}")
    if not isinstance(task, str) or not task.strip():
        raise ToolError(f"the task for {role} must be a non-empty text")
    return Assignment(roles[role], task.strip())


def render(outcomes: list[Outcome], limit_chars: int = RESULT_LIMIT_CHARS) -> str:
    """The result the lead reads: one entry per member, labelled by role, answers cut to share the limit."""
    share = max(200, (limit_chars - 200 * len(outcomes)) // max(1, len(outcomes)))
    entries = []
    for number, outcome in enumerate(outcomes, start=1):
        entry: dict[str, Any] = {"task": number, "role": outcome.role, "status": outcome.status}
        if outcome.status == "done":
            answer = outcome.answer
            entry["answer"] = answer if len(answer) <= share else answer[:share] + " […]"
        else:
            entry["error"] = outcome.error
        entries.append(entry)
    return json.dumps({"results": entries}, ensure_ascii=False)


def describe(roles: Mapping[str, Role]) -> str:
    lines = [f"- {role.name}: {role.description}" for role in sorted(roles.values(), key=lambda r: r.name)]
    return (
        "Hand parts of a big task to helpers working at once; give each all it needs. Roles:\n"
        + "\n".join(lines)
    )


def schema(roles: Mapping[str, Role], max_tasks: int) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "role": {"type": "string", "enum": sorted(roles)},
            "task": {"type": "string"},
        },
        "required": ["role", "task"],
    }
    tasks = {"type": "array", "items": item, "minItems": 1, "maxItems": max_tasks}
    return {"type": "object", "properties": {"tasks": tasks}, "required": ["tasks"]}


class Delegate:
    """The tool, bound to the depth it runs at: the lead's is depth 0, its members' depth 1, and so on."""

    name = NAME
    effect = True
    # Whether an answer is untrusted depends on what its members read; each call says so.
    untrusted = False

    def __init__(self, swarm: Swarm, depth: int = 0, parent_id: int | None = None) -> None:
        self.swarm = swarm
        self.depth = depth
        self.parent_id = parent_id
        self.description = describe(swarm.roles)
        self.parameters: Mapping[str, Any] = schema(swarm.roles, swarm.limits.max_tasks)

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> Result:
        if self.depth >= self.swarm.limits.max_depth:
            raise ToolError("helpers at this level cannot hand work on; do it yourself")
        work = parse_tasks(args, self.swarm.roles, self.swarm.limits.max_tasks)
        outcomes = await self.swarm.run_team(work, ctx, self.depth, self.parent_id)
        return Result(render(outcomes), untrusted=any(outcome.untrusted for outcome in outcomes))


def nested(swarm: Swarm, depth: int, parent_id: int) -> Delegate:
    """The delegate tool a member at `depth` gets (Swarm.delegate_factory)."""
    return Delegate(swarm, depth, parent_id)
