"""The test server over stdio inside a real container: hardened as skills are (checked with docker
inspect), and a server that crashes, hangs, breaks the protocol or floods is stopped and reported."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assistant.mcp.config import ServerConfig
from assistant.mcp.container import LABEL_SERVER, server_options
from assistant.mcp.session import Connection, McpError
from assistant.mcp.transport import ContainerTransport
from tests.mcp.conftest import COMMAND

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def kit(image: str, **changes: Any) -> ServerConfig:
    return ServerConfig(
        "kit", image=image, command=COMMAND, timeout_s=5, env={"TESTKIT_GREETING": "hi"}, **changes
    )


@pytest.fixture
async def opened(docker_client: Any, mcp_image: str, instance: str) -> AsyncIterator[Connection]:
    server = kit(mcp_image)
    options = server_options(server, instance, "whatsapp:+15550001")
    connection = await Connection.open(server, ContainerTransport(docker_client, options, server.name))
    yield connection
    await connection.close()


def containers(docker_client: Any, instance: str) -> list[Any]:
    return list(
        docker_client.containers.list(
            all=True, ignore_removed=True, filters={"label": f"org.hearth.sandbox={instance}"}
        )
    )


async def test_the_container_is_locked_down(opened: Connection, docker_client: Any, instance: str) -> None:
    (container,) = containers(docker_client, instance)
    attrs = docker_client.api.inspect_container(container.id)
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["Memory"] == host["MemorySwap"] == 256 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 64
    assert host["Privileged"] is False
    assert not host.get("Binds")
    assert attrs["Mounts"] == []
    assert attrs["Config"]["User"] == "10001:10001"
    assert attrs["Config"]["Entrypoint"] == ["python3"]
    assert attrs["Config"]["Labels"][LABEL_SERVER] == "kit"
    assert "docker.sock" not in str(attrs)
    who = await opened.call("whoami", {})
    assert '"uid": 10001' in who.content[0].text  # type: ignore[union-attr]
    assert '"TESTKIT_GREETING": "hi"' in who.content[0].text  # type: ignore[union-attr]


async def test_a_call_and_the_container_goes_with_the_session(
    docker_client: Any, mcp_image: str, instance: str
) -> None:
    server = kit(mcp_image)
    transport = ContainerTransport(docker_client, server_options(server, instance, None), server.name)
    connection = await Connection.open(server, transport)
    assert (await connection.call("echo", {"text": "über"})).content[0].text == "über"  # type: ignore[union-attr]
    await connection.close()
    assert containers(docker_client, instance) == []


@pytest.mark.parametrize(
    ("tool", "arguments", "reason"),
    [
        ("crash", {}, "connection to the server closed"),
        ("hang", {}, "did not answer in time"),
        ("garble", {}, "breaks the protocol"),
        ("flood", {"size": 5_000_000}, "connection to the server closed"),
    ],
)
async def test_a_misbehaving_server_fails_the_call_and_the_session(
    opened: Connection, tool: str, arguments: dict[str, Any], reason: str
) -> None:
    started = time.monotonic()
    with pytest.raises(McpError, match=reason):
        await opened.call(tool, arguments)
    assert time.monotonic() - started < 8
    assert not opened.alive()
    if tool == "flood":
        assert isinstance(opened.transport, ContainerTransport)
        await opened.transport.ended.wait()
        assert opened.transport.reason == "the server sent a message larger than 4000000 bytes"


async def test_the_exit_is_told(opened: Connection) -> None:
    with pytest.raises(McpError):
        await opened.call("crash", {})
    transport = opened.transport
    assert isinstance(transport, ContainerTransport)
    await transport.ended.wait()
    assert transport.reason == "the server exited with status 3"
