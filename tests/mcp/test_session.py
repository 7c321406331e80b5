"""A session over streamable HTTP with the test server on loopback: tools, calls, and a server that
hangs, crashes mid-call or changes its tool list."""

from __future__ import annotations

import asyncio
import time

import pytest

from assistant.mcp.config import ServerConfig
from assistant.mcp.session import Connection, McpError, http_transport
from tests.mcp.conftest import HttpServer


def server_at(url: str, timeout_s: float = 5) -> ServerConfig:
    return ServerConfig("kit", url=url, timeout_s=timeout_s, headers={"X-Test": "1"})


async def test_tools_and_a_call(http_server: HttpServer) -> None:
    server = server_at(http_server.url)
    connection = await Connection.open(server, http_transport(server))
    try:
        assert {"echo", "add", "note", "wipe", "crash", "hang"} <= {t.name for t in connection.tools}
        result = await connection.call("add", {"a": 2, "b": 40})
        assert result.content[0].text == "42"  # type: ignore[union-attr]
        unknown = await connection.call("nope", {})
        assert unknown.is_error
        assert connection.alive()
    finally:
        await connection.close()


async def test_a_hanging_call_times_out(http_server: HttpServer) -> None:
    server = server_at(http_server.url, timeout_s=1)
    connection = await Connection.open(server, http_transport(server))
    started = time.monotonic()
    try:
        with pytest.raises(McpError, match="did not answer in time"):
            await connection.call("hang", {})
        assert time.monotonic() - started < 3
        assert not connection.alive()
    finally:
        await connection.close()


async def test_a_server_that_dies_mid_call(http_server: HttpServer) -> None:
    server = server_at(http_server.url)
    connection = await Connection.open(server, http_transport(server))
    try:
        with pytest.raises(McpError):
            await connection.call("crash", {})
        assert not connection.alive()
        with pytest.raises(McpError):
            await connection.call("echo", {"text": "still there?"})
    finally:
        await connection.close()


async def test_nobody_listening_is_a_clear_error() -> None:
    server = server_at("http://127.0.0.1:9/mcp", timeout_s=2)
    with pytest.raises(McpError, match=r"cannot reach the server \(ConnectError\)"):
        await Connection.open(server, http_transport(server))


async def test_a_changed_tool_list_is_listed_again(http_server: HttpServer) -> None:
    server = server_at(http_server.url)
    changed = asyncio.Event()

    async def on_change(connection: Connection) -> None:
        changed.set()

    connection = await Connection.open(server, http_transport(server), on_change)
    try:
        assert "extra" not in {t.name for t in connection.tools}
        await connection.call("grow", {})
        await asyncio.wait_for(changed.wait(), 5)
        assert "extra" in {t.name for t in connection.tools}
    finally:
        await connection.close()
