"""What the command line and `hearth doctor` show of MCP servers: the configuration, a connection's
tools, and a check per server."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from assistant.mcp.approvals import FILE_NAME, Approvals
from assistant.mcp.catalog import ToolSpec, catalog
from assistant.mcp.config import ServerBook, ServerConfig
from assistant.mcp.egress import egress_config
from assistant.mcp.service import McpService
from assistant.mcp.session import McpError
from assistant.ops.check import Check
from assistant.settings import Settings

FIX = "see the server's last error above; `hearth mcp test NAME` connects to one and shows the details"


def describe_server(server: ServerConfig, approvals: Approvals) -> str:
    """One line per server, with no secret: header and variable names only."""
    if server.kind == "stdio":
        where = f"image={server.image} command={' '.join(server.command)} network={server.network}"
        where += f" scope={server.scope}" + (f" env={','.join(sorted(server.env))}" if server.env else "")
    else:
        where = f"url={server.url}" + (
            f" headers={','.join(sorted(server.headers))}" if server.headers else ""
        )
    approved = approvals.approved_at(server.name)
    return f"{server.name:<12} {server.kind:<5} {where}  approved={approved or 'not yet'}"


def tool_line(spec: ToolSpec, held: bool) -> str:
    if held:
        mark = "HELD"
    elif spec.traits.always_ask:
        mark = "asks"
    else:
        mark = "effect" if spec.traits.effect else "read-only"
    return f"  {spec.name:<32} {mark:<9} {spec.description}"


@dataclass(frozen=True)
class Connected:
    """One server connected to from the command line: its offered and held tools, and how long it took."""

    specs: list[ToolSpec]
    held: list[ToolSpec]
    skipped: list[str]
    seconds: float


@contextlib.asynccontextmanager
async def standalone(settings: Settings, book: ServerBook) -> AsyncIterator[McpService]:
    """A service of its own (its own container label, so a running Hearth's containers are left alone)."""
    approvals = Approvals(settings.data_dir / FILE_NAME)
    egress = egress_config(settings)
    service = McpService(book, approvals, instance="hearth-mcp-cli", idle_s=60, egress=egress)
    try:
        yield service
    finally:
        await service.close()


async def connect(service: McpService, name: str) -> Connected:
    """Connect to `name` and sort its tools; McpError when it cannot be reached."""
    started = time.monotonic()
    tools = await service.connect(name)
    listing = catalog(service.book.servers[name], tools)
    held = service.approvals.held(name, listing.specs)
    return Connected(listing.specs, held, listing.skipped, time.monotonic() - started)


async def checks(settings: Settings, book: ServerBook) -> list[Check]:
    """One check per configured server (and one per entry that did not load); none without mcp.toml."""
    found = [Check("mcp", False, error, "fix the entry in mcp.toml") for error in book.errors]
    async with standalone(settings, book) as service:
        for name in book.servers:
            try:
                connected = await connect(service, name)
            except McpError:
                found.append(Check(f"mcp {name}", False, service.states[name].line(), FIX))
                continue
            detail = f"{len(connected.specs)} tools in {connected.seconds:.1f} s"
            if connected.held:
                names = ", ".join(spec.tool for spec in connected.held)
                fix = f"check what changed (`hearth mcp test {name}`), then `hearth mcp approve {name}`"
                found.append(
                    Check(f"mcp {name}", False, f"{detail}; held until approved again: {names}", fix)
                )
            else:
                found.append(Check(f"mcp {name}", True, detail))
    return found
