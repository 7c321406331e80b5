"""Fixtures for the MCP tests: the test server over streamable HTTP on loopback, and its image for
stdio in a container (skipped without a Docker engine, unless HEARTH_REQUIRE_DOCKER=1)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import docker.errors
import pytest

from assistant.sandbox.errors import SandboxError
from tests.mcp.image import SERVER_DIR, ensure_test_image
from tests.process import free_port
from tests.sandbox.docker_env import BASE_IMAGE, REQUIRE_DOCKER, connect

TESTKIT = SERVER_DIR / "testkit.py"
COMMAND = ("python3", "/opt/mcp/server/testkit.py")


def unavailable(reason: str) -> None:
    if REQUIRE_DOCKER:
        pytest.fail(f"HEARTH_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


class HttpServer:
    """`testkit.py --http PORT` as a child process; `url` is its MCP endpoint."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(TESTKIT), "--http", str(self.port), stdout=log, stderr=log
            )
        async with asyncio.timeout(20), aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/mcp") as response:
                        if response.status < 500:
                            return
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 3)
            except TimeoutError:
                # uvicorn waits for open streams (a client's listen stream) to end before it exits.
                self.proc.kill()
                await self.proc.wait()


@pytest.fixture
async def http_server(tmp_path: Path) -> AsyncIterator[HttpServer]:
    server = HttpServer(tmp_path / "testkit-http.log")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    try:
        client = connect()
    except SandboxError as exc:
        unavailable(str(exc))
    yield client
    client.close()


@pytest.fixture(scope="session")
def mcp_image(docker_client: Any) -> str:
    try:
        return ensure_test_image(docker_client, BASE_IMAGE)
    except SandboxError as exc:
        unavailable(f"the test MCP image could not be built: {exc}")
        raise


@pytest.fixture
def instance(docker_client: Any) -> Iterator[str]:
    """A label value of this test's own; whatever carries it is removed afterwards."""
    name = f"hearth-mcp-test-{uuid.uuid4().hex[:8]}"
    yield name
    labelled = {"label": f"org.hearth.sandbox={name}"}
    for container in docker_client.containers.list(all=True, sparse=True, filters=labelled):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
