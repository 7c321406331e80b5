"""An MCP server's tool as a Hearth tool: `NAME__tool`, checked arguments, results as untrusted data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.agent.tools import ToolContext, ToolError
from assistant.agent.traits import Traits
from assistant.mcp.catalog import ToolSpec
from assistant.mcp.results import render, result_text
from assistant.mcp.service import McpService
from assistant.mcp.session import McpError
from assistant.sandbox.arguments import validate_arguments
from assistant.sandbox.errors import ArgumentsError

ERROR_CHARS = 1_000


class McpTool:
    """One tool of one server, called in the chat's own connection (or the shared one)."""

    def __init__(self, spec: ToolSpec, service: McpService) -> None:
        self.spec = spec
        self.service = service

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self.spec.parameters

    @property
    def traits(self) -> Traits:
        return self.spec.traits

    # The same traits under the attribute names the trust policy reads.
    @property
    def effect(self) -> bool:
        return self.spec.traits.effect

    @property
    def untrusted(self) -> bool:
        return self.spec.traits.untrusted_output

    def needs_approval(self, args: Mapping[str, Any]) -> str | None:
        """Every call of a destructive tool is the person's to approve, whatever the turn has seen."""
        return f"{self.name} may delete or overwrite things" if self.spec.traits.always_ask else None

    @property
    def kind(self) -> str:
        """Tools are offered by kind; one server's tools are one kind."""
        return self.spec.server

    @property
    def source(self) -> str:
        return f"mcp:{self.spec.server}/{self.spec.tool}"

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        try:
            valid = validate_arguments(self.spec.parameters, args)
        except ArgumentsError as exc:
            raise ToolError(f"invalid arguments for {self.name}: {exc}") from None
        try:
            result = await self.service.call(self.spec.server, self.spec.tool, valid, ctx.chat_key)
        except McpError as exc:
            raise ToolError(f"{self.name} could not run: {exc}") from None
        if result.is_error:
            # The server's own words about the failure are as untrusted as its results.
            raise ToolError(f"{self.name} failed: {result_text(result, ERROR_CHARS)}")
        return render(self.source, result)


def mcp_tools(specs: list[ToolSpec], service: McpService) -> list[McpTool]:
    return [McpTool(spec, service) for spec in specs]
