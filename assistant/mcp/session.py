"""One live MCP session: the SDK's Client entered in a task of its own that owns its lifetime, its
tool list kept current on list_changed, and calls that fail as McpError with a short reason."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx2
import mcp_types
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from assistant.errors import HearthError
from assistant.mcp.config import ServerConfig
from assistant.mcp.transport import ContainerTransport

# The SDK is imported where a connection is made, not here: importing it brings its server side
# too (starlette, uvicorn, ~25 MB), and most installations name no MCP server at all.
if TYPE_CHECKING:
    from mcp import Client

logger = logging.getLogger(__name__)

CLIENT_INFO = mcp_types.Implementation(name="hearth", version="0.1")
CONNECT_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 5.0
MAX_PAGES = 10
Changed = Callable[["Connection"], Awaitable[None]]


class McpError(HearthError):
    """A server could not be reached or broke off; the message is short and names no secret."""


@contextlib.asynccontextmanager
async def http_transport(server: ServerConfig) -> AsyncIterator[Any]:
    """Streamable HTTP with the server's headers. The owner named this address, so no proxy applies."""
    from mcp.client.streamable_http import streamable_http_client

    timeout = httpx2.Timeout(CONNECT_TIMEOUT_S, read=server.timeout_s + CONNECT_TIMEOUT_S)
    async with (
        httpx2.AsyncClient(headers=dict(server.headers), timeout=timeout, trust_env=False) as http,
        streamable_http_client(server.url, http_client=http) as streams,
    ):
        yield streams


def describe(exc: BaseException) -> str:
    """A short reason for a failed connect or call, fit for /status and the model."""
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        if exc.code == mcp_types.REQUEST_TIMEOUT:
            return "the server did not answer in time"
        if exc.code == mcp_types.CONNECTION_CLOSED:
            return "the connection to the server closed"
        return f"the server answered error {exc.code}: {exc.message[:200]}"
    if isinstance(exc, ValidationError):
        return "the server answered something that breaks the protocol"
    if isinstance(exc, httpx2.HTTPError):
        return f"cannot reach the server ({type(exc).__name__})"
    if isinstance(exc, ExceptionGroup) and exc.exceptions:
        return describe(exc.exceptions[0])
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


class Connection:
    """Open with `Connection.open`; `tools` is the server's current list; `close` ends it all."""

    def __init__(self, server: ServerConfig, transport: Any, on_change: Changed | None) -> None:
        self.server = server
        self.transport = transport
        self.on_change = on_change
        self.tools: list[mcp_types.Tool] = []
        self.broken = False
        self.error = ""
        self._client: Client | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, server: ServerConfig, transport: Any, on_change: Changed | None = None) -> Connection:
        """Connect and list the tools; McpError with the reason when that fails."""
        connection = cls(server, transport, on_change)
        connection._task = asyncio.create_task(connection._run(), name=f"mcp-{server.name}")
        ready = asyncio.create_task(connection._ready.wait())
        try:
            await asyncio.wait(
                {ready, connection._task},
                timeout=CONNECT_TIMEOUT_S + server.timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if not connection._ready.is_set():
            await connection.close()
            raise McpError(connection.error or "the server did not start in time")
        return connection

    async def _run(self) -> None:
        from mcp import Client

        try:
            async with Client(
                self.transport,
                mode="auto",
                read_timeout_seconds=self.server.timeout_s,
                message_handler=self._message,
                client_info=CLIENT_INFO,
                cache=None,
            ) as client:
                self._client = client
                self.tools = await self._list(client)
                self._ready.set()
                await self._serve(client)
        except Exception as exc:
            self.error = describe(exc)
            logger.info("mcp %s: session ended: %s", self.server.name, self.error)
        finally:
            self.broken = True
            self._client = None

    async def _serve(self, client: Client) -> None:
        """Until asked to stop or the server goes: relist on every change notification."""
        async with contextlib.AsyncExitStack() as stack:
            if client.protocol_version in MODERN_PROTOCOL_VERSIONS and self._announces_changes(client):
                await self._listen(client, stack)
            ended = getattr(self.transport, "ended", None)
            waits = [self._stop.wait(), self._relist_on_change(client)]
            if isinstance(ended, asyncio.Event):
                waits.append(ended.wait())
            tasks = [asyncio.ensure_future(w) for w in waits]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
            if isinstance(ended, asyncio.Event) and ended.is_set():
                self.error = getattr(self.transport, "reason", "") or "the server stopped"

    async def _listen(self, client: Client, stack: contextlib.AsyncExitStack) -> None:
        """2026 servers send list_changed only on a listen stream (it reaches `_message` too)."""
        try:
            subscription = await stack.enter_async_context(client.listen(tools_list_changed=True))
        except Exception as exc:
            logger.warning("mcp %s: cannot listen for tool changes: %s", self.server.name, describe(exc))
            return
        stack.push_async_callback(_drain, asyncio.create_task(_consume(subscription)))

    @staticmethod
    def _announces_changes(client: Client) -> bool:
        tools = client.server_capabilities.tools
        return bool(tools and tools.list_changed)

    async def _relist_on_change(self, client: Client) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                self.tools = await self._list(client)
            except Exception as exc:
                self.error = describe(exc)
                logger.warning("mcp %s: listing tools again failed: %s", self.server.name, self.error)
                continue
            if self.on_change is not None:
                await self.on_change(self)

    async def _message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._changed.set()
        elif isinstance(message, Exception):
            logger.warning("mcp %s: %s", self.server.name, describe(message))

    async def _list(self, client: Client) -> list[mcp_types.Tool]:
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        return tools

    async def call(self, tool: str, arguments: Mapping[str, Any]) -> mcp_types.CallToolResult:
        """The server's result (an `is_error` result included); McpError when the call itself failed,
        after which this connection is not used again."""
        client = self._client
        if client is None or self.broken:
            raise McpError(self.error or "the connection to the server is closed")
        try:
            result = await client.call_tool(tool, dict(arguments))
        except Exception as exc:
            self.broken = True
            self.error = describe(exc)
            raise McpError(self.error) from exc
        if not isinstance(result, mcp_types.CallToolResult):
            self.broken = True
            raise McpError("the server asked for input Hearth cannot give")
        return result

    def alive(self) -> bool:
        ended = getattr(self.transport, "ended", None)
        gone = isinstance(ended, asyncio.Event) and ended.is_set()
        return not self.broken and not gone and self._task is not None and not self._task.done()

    async def close(self) -> None:
        """End the session and its container or HTTP client; never raises."""
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), CLOSE_TIMEOUT_S)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        except Exception:
            logger.exception("mcp %s: closing failed", self.server.name)


async def _consume(subscription: Any) -> None:
    async for _event in subscription:
        pass


async def _drain(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def container_transport(
    docker_client: Any, options: dict[str, Any], server: ServerConfig
) -> ContainerTransport:
    return ContainerTransport(docker_client, options, server.name)
