"""The service: connections per chat or shared, restarted when they die, stopped when idle; tool
lists published, and a changed tool held until the owner approves it again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistant.mcp.approvals import Approvals
from assistant.mcp.catalog import ToolSpec, catalog
from assistant.mcp.config import ServerBook, ServerConfig
from assistant.mcp.service import McpService
from assistant.mcp.session import McpError
from tests.mcp.conftest import COMMAND, HttpServer

Published = dict[str, list[str]]


def make_service(tmp_path: Path, *servers: ServerConfig, **options: Any) -> tuple[McpService, Published]:
    published: Published = {}

    def publish(server: str, specs: list[ToolSpec]) -> None:
        published[server] = [spec.name for spec in specs]

    book = ServerBook({server.name: server for server in servers})
    service = McpService(book, Approvals(tmp_path / "mcp-approved.json"), publish=publish, **options)
    return service, published


def text(result: Any) -> str:
    return str(result.content[0].text)


async def test_a_new_server_is_approved_as_first_seen(tmp_path: Path, http_server: HttpServer) -> None:
    service, published = make_service(tmp_path, ServerConfig("kit", url=http_server.url, exclude=("crash",)))
    try:
        await service.connect("kit")
        assert "kit__echo" in published["kit"]
        assert "kit__crash" not in published["kit"]
        assert service.states["kit"].status == "ready"
        approved = json.loads((tmp_path / "mcp-approved.json").read_text())
        assert "echo" in approved["servers"]["kit"]["tools"]
    finally:
        await service.close()


async def test_a_changed_description_is_held_until_approved_again(
    tmp_path: Path, http_server: HttpServer
) -> None:
    service, published = make_service(tmp_path, ServerConfig("kit", url=http_server.url))
    try:
        await service.call("kit", "rug", {}, "api:anna")
        async with asyncio.timeout(5):
            while "kit__echo" in published["kit"]:
                await asyncio.sleep(0.05)
        assert service.states["kit"].held == ["echo"]
        assert "held until approved again (echo)" in service.status_lines()[1]
        # The owner approves from the command line; the running service sees it at the next check.
        tools = await service.connect("kit")
        Approvals(tmp_path / "mcp-approved.json").approve(
            "kit", catalog(service.book.servers["kit"], tools).specs, service.clock()
        )
        service.recheck()
        assert "kit__echo" in published["kit"]
        assert service.states["kit"].held == []
    finally:
        await service.close()


async def test_a_tool_that_appears_later_is_held(tmp_path: Path, http_server: HttpServer) -> None:
    service, published = make_service(tmp_path, ServerConfig("kit", url=http_server.url))
    try:
        await service.call("kit", "grow", {}, "api:anna")
        async with asyncio.timeout(5):
            while service.states["kit"].held != ["extra"]:
                await asyncio.sleep(0.05)
        assert "kit__extra" not in published["kit"]
    finally:
        await service.close()


async def test_an_unreachable_server_is_reported(tmp_path: Path) -> None:
    service, _ = make_service(tmp_path, ServerConfig("gone", url="http://127.0.0.1:9/mcp", timeout_s=1))
    try:
        with pytest.raises(McpError):
            await service.connect("gone")
        state = service.states["gone"]
        assert state.status == "failed"
        assert state.error_at is not None
        assert "last error at" in state.line()
    finally:
        await service.close()


@pytest.fixture
async def stdio_service(
    tmp_path: Path, docker_client: Any, mcp_image: str, instance: str
) -> AsyncIterator[McpService]:
    per_chat = ServerConfig("kit", image=mcp_image, command=COMMAND, timeout_s=5)
    shared = ServerConfig("one", image=mcp_image, command=COMMAND, timeout_s=5, scope="shared")
    service, _ = make_service(tmp_path, per_chat, shared, instance=instance, idle_s=60, max_containers=4)
    service.pool.start()
    yield service
    await service.close()


def host(result: Any) -> str:
    return str(json.loads(text(result))["host"])


@pytest.mark.docker
@pytest.mark.timeout(120)
async def test_one_container_per_chat_unless_shared(stdio_service: McpService) -> None:
    anna = host(await stdio_service.call("kit", "whoami", {}, "api:anna"))
    assert host(await stdio_service.call("kit", "whoami", {}, "api:anna")) == anna
    assert host(await stdio_service.call("kit", "whoami", {}, "api:bob")) != anna
    one = host(await stdio_service.call("one", "whoami", {}, "api:anna"))
    assert host(await stdio_service.call("one", "whoami", {}, "api:bob")) == one


@pytest.mark.docker
@pytest.mark.timeout(120)
async def test_a_dead_server_is_restarted_on_next_use(stdio_service: McpService) -> None:
    before = host(await stdio_service.call("kit", "whoami", {}, "api:anna"))
    with pytest.raises(McpError):
        await stdio_service.call("kit", "crash", {}, "api:anna")
    assert stdio_service.states["kit"].error == "the connection to the server closed"
    after = host(await stdio_service.call("kit", "whoami", {}, "api:anna"))
    assert after != before


@pytest.mark.docker
@pytest.mark.timeout(120)
async def test_an_idle_server_is_stopped_and_leftovers_removed(
    tmp_path: Path, docker_client: Any, mcp_image: str, instance: str
) -> None:
    leftover = docker_client.containers.create(mcp_image, labels={"org.hearth.sandbox": instance})
    server = ServerConfig("kit", image=mcp_image, command=COMMAND, timeout_s=5)
    service, _ = make_service(tmp_path, server, instance=instance, idle_s=0.5)
    service.pool.start()
    try:
        await service.call("kit", "echo", {"text": "hi"}, "api:anna")
        ids = {
            c.id
            for c in docker_client.containers.list(
                all=True, sparse=True, filters={"label": f"org.hearth.sandbox={instance}"}
            )
        }
        assert leftover.id not in ids
        assert len(ids) == 1
        async with asyncio.timeout(10):
            while docker_client.containers.list(
                all=True, sparse=True, filters={"label": f"org.hearth.sandbox={instance}"}
            ):
                await asyncio.sleep(0.2)
        assert len(service.pool) == 0
    finally:
        await service.close()
