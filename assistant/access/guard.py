"""The guard every tool call passes: the role's policy, then what the turn has seen.

- A tool the role may not use is never offered, and a call to it anyway is refused as such.
- In a job's unattended run, a tool with an effect runs only if the job was approved for it.
- Otherwise a call waits for the person's approval when the policy always asks for that tool,
  when the call grants something lasting (the tool says so), or when it has an effect and
  untrusted content has entered the turn. Where nobody can be asked (team members), it is refused.
"""

from __future__ import annotations

import json
from typing import Any

from assistant.access.approvals import Approvals
from assistant.access.policy import Policy
from assistant.agent.tools import Tool, ToolContext, ToolRegistry, approval_reason, has_effect

NOT_PERMITTED = "not permitted: {tool} is not available to you; tell the person you cannot do that"
UNATTENDED = (
    "not permitted: {tool} has an effect, and this job was not approved to use it when it was made; "
    "nobody is here to approve it now"
)
NO_ONE_TO_ASK = "not run: {tool} needs the person's approval here, and nobody can be asked from this work"
ALWAYS_ASK = "the policy always asks before this tool runs"
TAINTED = "this turn read content from outside (a skill, a web page, a document) and this call changes things"


def refusal(template: str, tool: str) -> str:
    return json.dumps({"error": template.format(tool=tool)})


class PolicyGuard:
    """Implements the agent's Guard with a Policy and the approvals service."""

    def __init__(self, policy: Policy, approvals: Approvals) -> None:
        self.policy = policy
        self.approvals = approvals

    def offered(self, tools: ToolRegistry, ctx: ToolContext) -> ToolRegistry:
        return tools.subset(name for name in tools.names() if self.policy.may_use(ctx.trust.role, name))

    async def check(self, tool: Tool, args: dict[str, Any], ctx: ToolContext, tainted: bool) -> str | None:
        trust, name = ctx.trust, tool.name
        if not self.policy.may_use(trust.role, name):
            return refusal(NOT_PERMITTED, name)
        if trust.unattended:
            held = has_effect(tool) or self.policy.needs_approval(trust.role, name)
            return refusal(UNATTENDED, name) if held and name not in trust.approved_tools else None
        reason = self.reason(tool, args, trust.role, tainted)
        if reason is None:
            return None
        if not trust.may_ask:
            return refusal(NO_ONE_TO_ASK, name)
        return await self.approvals.request(tool, args, ctx, reason)

    def reason(self, tool: Tool, args: dict[str, Any], role: str, tainted: bool) -> str | None:
        """Why this call must wait for the person, or None to run it now."""
        if self.policy.needs_approval(role, tool.name):
            return ALWAYS_ASK
        granted = approval_reason(tool, args)
        if granted is not None:
            return granted
        return TAINTED if tainted and has_effect(tool) else None
