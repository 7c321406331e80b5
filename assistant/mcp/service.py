"""MCP servers at work: connections kept warm per (server, chat), restarted when they die and stopped
when idle; each server's tools listed, checked against what the owner approved, and published."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import mcp_types

from assistant.mcp.approvals import Approvals
from assistant.mcp.catalog import ToolSpec, catalog
from assistant.mcp.config import ServerBook, ServerConfig
from assistant.mcp.container import server_options
from assistant.mcp.egress import EgressConfig, McpEgress
from assistant.mcp.session import Connection, McpError, http_transport
from assistant.mcp.transport import ContainerTransport, TransportError
from assistant.sandbox.egress import EgressError
from assistant.sandbox.errors import EngineUnavailableError
from assistant.sandbox.pool import WarmPool
from assistant.store.columns import utcnow

logger = logging.getLogger(__name__)

SHARED_KEY = ""
Publish = Callable[[str, list[ToolSpec]], None]


@dataclass
class ServerState:
    """What /status and `hearth doctor` say about one server."""

    name: str
    kind: str
    status: str = "not connected yet"
    offered: int = 0
    held: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str = ""
    error_at: datetime | None = None

    def line(self) -> str:
        text = f"{self.name} ({self.kind}): {self.status}"
        if self.status == "ready":
            text += f", {self.offered} tools"
        if self.held:
            text += f", {len(self.held)} held until approved again ({', '.join(self.held[:5])})"
        if self.error:
            when = f" at {self.error_at:%Y-%m-%d %H:%M} UTC" if self.error_at else ""
            text += f"; last error{when}: {self.error}"
        return text


class McpService:
    """Every configured server. `publish(server, specs)` hears each change of a server's offered tools."""

    def __init__(
        self,
        book: ServerBook,
        approvals: Approvals,
        *,
        instance: str = "hearth-mcp",
        idle_s: float = 300,
        max_containers: int = 8,
        clock: Callable[[], datetime] = utcnow,
        publish: Publish | None = None,
        egress: EgressConfig | None = None,
    ) -> None:
        self.book = book
        self.approvals = approvals
        self.instance = instance
        self.clock = clock
        self.publish = publish
        self.pool: WarmPool[Connection] = WarmPool(max_containers, idle_s)
        self.states = {name: ServerState(name, s.kind) for name, s in book.servers.items()}
        self.offered: dict[str, list[ToolSpec]] = {}
        self._listings: dict[str, list[mcp_types.Tool]] = {}
        self._stamp = approvals.stamp()
        self._docker: Any = None
        self._docker_lock = asyncio.Lock()
        self._starting: list[asyncio.Task[None]] = []
        self.egress = McpEgress(egress, instance, list(book.servers.values())) if egress else None

    def start(self) -> None:
        """Evict idle connections from now on, and list every server's tools in the background."""
        self.pool.start()
        for name in self.book.servers:
            self._starting.append(asyncio.create_task(self._first_listing(name), name=f"mcp-list-{name}"))

    async def _first_listing(self, name: str) -> None:
        with contextlib.suppress(McpError):  # recorded in the server's state
            await self.connect(name)

    async def connect(self, name: str) -> list[mcp_types.Tool]:
        """Connect (or reuse the connection) and give the server's tools; McpError when it fails."""
        async with self.lease(name, None) as connection:
            return list(connection.tools)

    @contextlib.asynccontextmanager
    async def lease(self, name: str, chat_key: str | None) -> AsyncIterator[Connection]:
        """The live connection for the server and chat, opened when there is none."""
        server = self.book.servers[name]
        scoped = None if server.shared or chat_key is None else chat_key
        key = (name, SHARED_KEY if scoped is None else scoped)
        async with self.pool.lease(key, lambda: self._open(server, scoped)) as connection:
            yield connection

    async def call(
        self, name: str, tool: str, arguments: Mapping[str, Any], chat_key: str
    ) -> mcp_types.CallToolResult:
        """One tool call in the chat's connection; McpError when the server failed (not the tool)."""
        try:
            async with self.lease(name, chat_key) as connection:
                return await connection.call(tool, arguments)
        except McpError as exc:
            self._failed(name, str(exc), "ready")
            raise

    async def _open(self, server: ServerConfig, chat_key: str | None) -> Connection:
        state = self.states[server.name]
        state.status = "connecting"
        try:
            transport = await self._transport(server, chat_key)
            connection = await Connection.open(server, transport, self._changed)
        except (McpError, TransportError, EngineUnavailableError) as exc:
            self._failed(server.name, str(exc), "failed")
            raise McpError(str(exc)) from exc
        state.status = "ready"
        self._publish(server.name, connection.tools)
        return connection

    async def _transport(self, server: ServerConfig, chat_key: str | None) -> Any:
        if server.kind == "http":
            return http_transport(server)
        docker = await self._docker_client()
        way_out = None
        if server.network == "egress":
            if self.egress is None:
                raise EgressError(f"MCP server {server.name} asks for egress, and no egress proxy is set up")
            way_out = await self.egress.egress_for(docker, server)
        options = server_options(server, self.instance, chat_key, way_out)
        return ContainerTransport(docker, options, server.name)

    async def _docker_client(self) -> Any:
        async with self._docker_lock:
            if self._docker is None:
                self._docker = await asyncio.to_thread(self._connect_docker)
            return self._docker

    def _connect_docker(self) -> Any:
        import docker

        from assistant.sandbox.runner import remove_leftovers

        try:
            client = docker.from_env()
        except docker.errors.DockerException as exc:
            raise EngineUnavailableError(f"no Docker engine answered: {exc}") from exc
        if removed := remove_leftovers(client, self.instance):
            logger.info("removed %d MCP server containers left over from a previous run", removed)
        return client

    def _failed(self, name: str, error: str, status: str) -> None:
        state = self.states[name]
        state.status, state.error, state.error_at = status, error, self.clock()
        logger.warning("mcp %s: %s", name, error)

    async def _changed(self, connection: Connection) -> None:
        logger.info("mcp %s: the tool list changed", connection.server.name)
        self._publish(connection.server.name, connection.tools)

    def _publish(self, name: str, tools: list[mcp_types.Tool]) -> None:
        self._listings[name] = tools
        self._evaluate(name)

    def _evaluate(self, name: str) -> None:
        """Offer the listed tools that match the approval; approve a server seen for the first time."""
        listing = catalog(self.book.servers[name], self._listings[name])
        if not self.approvals.known(name):
            self.approvals.approve(name, listing.specs, self.clock())
            self._stamp = self.approvals.stamp()
            logger.info("mcp %s: first seen; approved its %d tools as they are", name, len(listing.specs))
        held = {spec.tool for spec in self.approvals.held(name, listing.specs)}
        offered = [spec for spec in listing.specs if spec.tool not in held]
        state = self.states[name]
        state.offered, state.held, state.skipped = len(offered), sorted(held), listing.skipped
        for line in listing.skipped:
            logger.warning("mcp %s: tool left out: %s", name, line)
        if held:
            logger.warning("mcp %s: held until approved again: %s", name, ", ".join(sorted(held)))
        if offered != self.offered.get(name):
            self.offered[name] = offered
            if self.publish is not None:
                self.publish(name, offered)

    def recheck(self) -> None:
        """Evaluate every listed server again if the approval file changed (`hearth mcp approve`)."""
        stamp = self.approvals.stamp()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        for name in list(self._listings):
            self._evaluate(name)

    def status_lines(self) -> list[str]:
        if not self.states:
            return []
        return ["MCP servers:", *(f"- {state.line()}" for state in self.states.values())]

    async def close(self) -> None:
        """Stop listing, close every connection and remove every container, then the egress proxy."""
        for task in self._starting:
            task.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)
        await self.pool.close()
        if self.egress is not None:
            await self.egress.close(self._docker)
        if self._docker is not None:
            await asyncio.to_thread(self._docker.close)
            self._docker = None
