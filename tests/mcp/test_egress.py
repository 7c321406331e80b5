"""Stdio servers with network = "egress" on real Docker: out only through the egress proxy, narrowed to
their allow_hosts, and refused private and metadata addresses after resolution.

"Home" is a server this test starts on the host's address on Docker's default bridge (a private
address, as a NAS on the LAN has); names map to it through the proxy's hosts file, so no outside DNS
is asked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from assistant.mcp.approvals import Approvals
from assistant.mcp.config import ServerBook, ServerConfig
from assistant.mcp.container import server_options
from assistant.mcp.egress import EgressConfig
from assistant.mcp.service import McpService
from assistant.sandbox.config import SandboxConfig
from tests.mcp.conftest import COMMAND
from tests.sandbox.docker_env import BASE_IMAGE, bridge_gateway

pytestmark = [pytest.mark.docker, pytest.mark.timeout(180)]


@dataclass(frozen=True)
class Home:
    address: str
    port: int


@pytest.fixture
async def home(docker_client: Any) -> AsyncIterator[Home]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="home: the owner's files")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    address = bridge_gateway(docker_client)
    site = web.TCPSite(runner, address, 0)
    await site.start()
    try:
        yield Home(address, int(runner.addresses[0][1]))
    finally:
        await runner.cleanup()


def kit(image: str, **changes: Any) -> ServerConfig:
    return ServerConfig(
        "kit",
        image=image,
        command=COMMAND,
        timeout_s=10,
        network="egress",
        env={"TESTKIT_FETCH": "1"},
        **changes,
    )


@pytest.fixture
async def service(
    tmp_path: Path, mcp_image: str, instance: str, home: Home, docker_client: Any
) -> AsyncIterator[McpService]:
    names = ("home.test", "other.test")
    egress = EgressConfig(
        BASE_IMAGE,
        SandboxConfig().egress_dir,
        allow=names,  # the owner opens both private names...
        hosts=tuple((name, home.address) for name in names),
    )
    server = kit(mcp_image, allow_hosts=("home.test",))  # ...and the server is narrowed to one
    book = ServerBook({server.name: server})
    made = McpService(book, Approvals(tmp_path / "approved.json"), instance=instance, egress=egress)
    made.pool.start()
    yield made
    await made.close()
    leftovers = docker_client.networks.list(filters={"label": f"org.hearth.egress={instance}"})
    assert leftovers == []


async def fetch(service: McpService, url: str, direct: bool = False) -> str:
    result = await service.call("kit", "fetch", {"url": url, "direct": direct}, "api:anna")
    return str(result.content[0].text)  # type: ignore[union-attr]


async def test_an_egress_server_goes_out_only_through_the_proxy(
    service: McpService, home: Home, docker_client: Any, instance: str
) -> None:
    allowed = await fetch(service, f"http://home.test:{home.port}/")
    outside_its_hosts = await fetch(service, f"http://other.test:{home.port}/")
    by_address = await fetch(service, f"http://{home.address}:{home.port}/")
    metadata = await fetch(service, "http://169.254.169.254/latest/meta-data/")
    direct = await fetch(service, f"http://{home.address}:{home.port}/", direct=True)
    assert allowed == "200 home: the owner's files"
    assert [outside_its_hosts, by_address, metadata] == ["403 refused"] * 3
    assert direct.startswith("unreachable")

    (container,) = docker_client.containers.list(filters={"label": f"org.hearth.sandbox={instance}"})
    attrs = docker_client.api.inspect_container(container.id)
    assert service.egress is not None
    assert service.egress.proxy is not None
    network = service.egress.proxy.networks["kit"]
    assert attrs["HostConfig"]["NetworkMode"] == network
    assert list(attrs["NetworkSettings"]["Networks"]) == [network]
    assert docker_client.networks.get(network).attrs["Internal"] is True
    proxy_url = f"http://{service.egress.proxy.addresses['kit']}:3128"
    assert f"HTTP_PROXY={proxy_url}" in attrs["Config"]["Env"]
    assert attrs["HostConfig"]["ReadonlyRootfs"] is True
    assert attrs["HostConfig"]["CapDrop"] == ["ALL"]


def test_an_egress_server_is_never_started_without_the_proxy() -> None:
    with pytest.raises(ValueError, match="MCP server kit needs the egress proxy"):
        server_options(kit("image"), "hearth-mcp", None)
    options = server_options(kit("image"), "hearth-mcp", None, ("net-kit", {"HTTP_PROXY": "http://p:3128"}))
    assert (options["network"], options["environment"]["HTTP_PROXY"]) == ("net-kit", "http://p:3128")
    assert "network_mode" not in options
    plain = server_options(ServerConfig("kit", image="i", command=COMMAND), "hearth-mcp", None, None)
    assert plain["network_mode"] == "none"
