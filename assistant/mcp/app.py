"""MCP in the application: mcp.toml read at start, each server's tools listed in the background and
kept current in the tool registry, every connection and container closed on the way out."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from assistant.agent.tools import ToolRegistry
from assistant.keys import CLOCK, OFFER, SETTINGS, TOOLS
from assistant.mcp.config import ServerBook, load_servers
from assistant.settings import read_env_file

if TYPE_CHECKING:
    # Loaded only when mcp.toml names a server: the MCP SDK costs some 5 MB of memory.
    from assistant.mcp.catalog import ToolSpec
    from assistant.mcp.service import McpService

logger = logging.getLogger(__name__)

MCP: web.AppKey[McpService] = web.AppKey("mcp")


def server_book(data_dir: Path) -> ServerBook:
    """The servers in mcp.toml, with `${NAME}` read from the environment, then from ./.env."""
    environ = {**read_env_file(Path(".env")), **os.environ}
    book = load_servers(data_dir, environ)
    for error in book.errors:
        logger.error("MCP server not loaded: %s", error)
    return book


def syncing(registry: ToolRegistry, service: McpService) -> Callable[[str, list[ToolSpec]], None]:
    """A publish callback that replaces a server's tools in the registry."""
    from assistant.mcp.tools import mcp_tools

    def publish(server: str, specs: list[ToolSpec]) -> None:
        prefix = f"{server}__"
        for name in [n for n in registry.names() if n.startswith(prefix)]:
            registry.remove(name)
        for tool in mcp_tools(specs, service):
            registry.add(tool)

    return publish


async def mcp_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start listing every configured server; without a server in mcp.toml nothing is loaded."""
    settings = app[SETTINGS]
    book = server_book(settings.data_dir)
    if not book.servers:
        yield
        return
    from assistant.mcp.approvals import FILE_NAME, Approvals
    from assistant.mcp.egress import egress_config
    from assistant.mcp.service import McpService

    service = McpService(
        book,
        Approvals(settings.data_dir / FILE_NAME),
        instance=f"{settings.instance}-mcp",
        idle_s=settings.mcp_idle_s,
        max_containers=settings.mcp_max_containers,
        clock=app[CLOCK],
        egress=egress_config(settings),
    )
    service.publish = syncing(app[TOOLS], service)
    app[MCP] = service
    for name, server in book.servers.items():
        app[OFFER].describe(name, server.description, name.split("-"))
    app[OFFER].before.append(service.recheck)
    service.start()
    yield
    await service.close()


def status_lines(app: web.Application) -> list[str]:
    """The /status lines about MCP servers (none when there are none)."""
    return app[MCP].status_lines() if MCP in app else []
