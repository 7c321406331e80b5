"""The way out for stdio servers with network = "egress": the skills' egress proxy, one more of it.

Each such server gets an internal network of its own whose only way out is squid, which refuses
private, loopback, link-local and metadata destinations after resolution (HEARTH_EGRESS_ALLOW opens
some), and narrows the server to its `allow_hosts` when it names any. The proxy starts on the first
connection that needs it, for every egress server in mcp.toml at once, and goes with the service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.mcp.config import ServerConfig
from assistant.sandbox.config import sandbox_config
from assistant.sandbox.container import Egress
from assistant.sandbox.egress import EgressError, allowed
from assistant.sandbox.proxy import EgressProxy, Route, egress_image
from assistant.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EgressConfig:
    """What the proxy is built from and allows: the worker's base image and the proxy's Dockerfile
    folder, HEARTH_EGRESS_ALLOW's parts, and names the proxy's /etc/hosts maps (tests only)."""

    base_image: str
    egress_dir: Path
    allow: tuple[str, ...] = ()
    hosts: tuple[tuple[str, str], ...] = ()


def egress_config(settings: Settings) -> EgressConfig:
    """The egress proxy's settings for MCP servers: the skills' own."""
    sandbox = sandbox_config(settings)
    return EgressConfig(sandbox.base_image, sandbox.egress_dir, sandbox.egress_allow, sandbox.egress_hosts)


def routes(servers: Sequence[ServerConfig]) -> list[Route]:
    """One route per stdio server with egress, narrowed to its allow_hosts."""
    return [Route(s.name, s.allow_hosts) for s in servers if s.kind == "stdio" and s.network == "egress"]


class McpEgress:
    """The proxy for the MCP servers with egress, started once on first need."""

    def __init__(self, config: EgressConfig, instance: str, servers: Sequence[ServerConfig]) -> None:
        self.config, self.instance = config, instance
        self.routes = routes(servers)
        self.proxy: EgressProxy | None = None
        self._lock = asyncio.Lock()

    async def egress_for(self, client: Any, server: ServerConfig) -> Egress:
        """The server's network and the variables that point it at the proxy; EgressError when the
        proxy cannot start (the server then does not start: there is no direct way out)."""
        async with self._lock:
            if self.proxy is None:
                self.proxy = await asyncio.to_thread(self._start, client)
        if server.name not in self.proxy.networks:
            raise EgressError(f"the egress proxy has no network for MCP server {server.name}")
        return self.proxy.networks[server.name], self.proxy.environment_for(server.name)

    def _start(self, client: Any) -> EgressProxy:
        config = self.config
        image = egress_image(client, config.base_image, config.egress_dir)
        proxy = EgressProxy(self.instance, image, allowed(config.allow), dict(config.hosts))
        try:
            proxy.start(client, self.routes)
        except Exception:
            proxy.close(client)
            raise
        logger.info("egress proxy started for MCP servers %s", ", ".join(proxy.networks))
        return proxy

    async def close(self, client: Any) -> None:
        if self.proxy is not None and client is not None:
            await asyncio.to_thread(self.proxy.close, client)
        self.proxy = None
