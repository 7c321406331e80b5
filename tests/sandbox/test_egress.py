"""The egress battery on real Docker: skills with egress reach nothing private, directly or through
the proxy, redirects included, unless HEARTH_EGRESS_ALLOW names it.

The "home" here is containers the test starts with ports published on the host's address on
Docker's default bridge (a private address, as a NAS on the LAN has); names map to it through the
proxy's hosts file, so no outside DNS is asked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.egress import Allowed, EgressError, SkillNet, allowed, parse_log, squid_conf
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.runner import DockerSandbox
from tests.access.attacker import BATTERY
from tests.process import hearth_env, run_hearth
from tests.sandbox.docker_env import BASE_IMAGE, TEST_SKILLS_DIR, bridge_gateway

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

SERVE = """
import http.server, sys
target = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if target and self.path.startswith("/to"):
            self.send_response(302)
            self.send_header("Location", target.replace("NAME", self.path[4:]))
            self.end_headers()
            return
        body = b"home: the owner's files"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
"""


@dataclass(frozen=True)
class Home:
    """The private servers: `home` (what must stay unreachable) and `redirector` (which sends there)."""

    address: str
    home_port: int
    redirector_port: int


def serve(client: Any, image: str, address: str, name: str, target: str) -> tuple[Any, int]:
    container = client.containers.run(
        image,
        ["-c", SERVE, target],
        entrypoint=["python3"],
        name=name,
        detach=True,
        ports={"8080/tcp": (address, None)},
        labels={"org.hearth.test": "egress"},
    )
    container.reload()
    return container, int(container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"])


@pytest.fixture(scope="module")
def home(docker_client: Any, test_image: str) -> Iterator[Home]:
    address = bridge_gateway(docker_client)
    token = uuid.uuid4().hex[:8]
    box, home_port = serve(docker_client, test_image, address, f"hearth-test-home-{token}", "")
    target = f"http://NAME:{home_port}/"
    redirector, redirector_port = serve(
        docker_client, test_image, address, f"hearth-test-redir-{token}", target
    )
    try:
        yield Home(address, home_port, redirector_port)
    finally:
        for container in (box, redirector):
            container.remove(force=True)


def config(test_image: str, tmp_path: Path, home: Home, *allow: str) -> SandboxConfig:
    names = ("home.test", "redirector.test", "rebind.test")
    return SandboxConfig(
        skills_dir=TEST_SKILLS_DIR,
        workspaces_dir=tmp_path / "workspaces",
        image=test_image,
        base_image=BASE_IMAGE,
        instance=f"hearth-test-{uuid.uuid4().hex[:8]}",
        egress_allow=allow,
        egress_hosts=tuple((name, home.address) for name in names),
    )


@pytest.fixture
async def open_sandbox(
    test_image: str, tmp_path: Path, home: Home, skills: dict[str, SkillManifest]
) -> AsyncIterator[Any]:
    opened: list[DockerSandbox] = []

    async def start(*allow: str) -> DockerSandbox:
        sandbox = DockerSandbox(
            config(test_image, tmp_path, home, *allow), [skills["beacon"], skills["narrow"]]
        )
        opened.append(sandbox)
        await sandbox.start()
        return sandbox

    yield start
    for sandbox in opened:
        await sandbox.close()


async def fetch(sandbox: DockerSandbox, skills: dict[str, SkillManifest], url: str, **extra: Any) -> str:
    return await sandbox.run(skills["beacon"], {"url": url, **extra}, "api:anna")


async def test_private_destinations_are_refused_redirects_included(
    open_sandbox: Any, skills: dict[str, SkillManifest], home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "assistant.sandbox.proxy")
    sandbox = await open_sandbox("redirector.test")
    by_name = await fetch(sandbox, skills, f"http://home.test:{home.home_port}/")
    by_address = await fetch(sandbox, skills, f"http://{home.address}:{home.home_port}/")
    metadata = await fetch(sandbox, skills, "http://169.254.169.254/latest/meta-data/")
    tunnel = await fetch(sandbox, skills, f"https://{home.address}:{home.home_port}/")
    loopback = await fetch(sandbox, skills, "http://[::ffff:127.0.0.1]/")
    allowed = await fetch(sandbox, skills, f"http://redirector.test:{home.redirector_port}/")
    redirected = await fetch(sandbox, skills, f"http://redirector.test:{home.redirector_port}/to/home.test")
    redirected_ip = await fetch(
        sandbox, skills, f"http://redirector.test:{home.redirector_port}/to/{home.address}"
    )
    direct = await fetch(sandbox, skills, f"http://{home.address}:{home.home_port}/", direct=True)
    host = await direct_to_the_host(sandbox, skills)
    assert [by_name, by_address, metadata, loopback] == ["403 refused"] * 4
    assert "Tunnel connection failed: 403" in tunnel
    assert allowed == "200 home: the owner's files"
    assert [redirected, redirected_ip] == ["403 refused"] * 2
    assert direct.startswith("unreachable")
    assert host.startswith("unreachable")
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("egress refused")]
    assert f"egress refused: skill beacon, chat api:anna, GET http://home.test:{home.home_port}/" in refusals
    assert any("169.254.169.254" in line for line in refusals)
    BATTERY.record(
        "an egress skill asks for a private container by name and by address, cloud metadata, "
        "loopback, a tunnel to it, or a redirect to it; or ignores the proxy",
        "refused after resolution, each logged with skill, chat and destination; no direct route",
        f"403 for all {len(refusals)} ({by_name}); redirect: {redirected}; direct: {direct}",
    )


async def direct_to_the_host(sandbox: DockerSandbox, skills: dict[str, SkillManifest]) -> str:
    """Connect, ignoring the proxy, to a host service on every interface at the skill network's
    gateway address (where the host would be, were the bridge given an address)."""
    assert sandbox.proxy is not None
    network = sandbox._client.networks.get(sandbox.proxy.networks["beacon"])
    gateway = network.attrs["IPAM"]["Config"][0]["Gateway"]
    server = await asyncio.start_server(lambda r, w: w.close(), "0.0.0.0", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await fetch(sandbox, skills, f"http://{gateway}:{port}/", direct=True)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_destination_is_reachable_once_the_owner_allows_it(
    open_sandbox: Any, skills: dict[str, SkillManifest], home: Home
) -> None:
    by_name = await fetch(await open_sandbox("home.test"), skills, f"http://home.test:{home.home_port}/")
    by_address = await fetch(await open_sandbox(home.address), skills, f"http://home.test:{home.home_port}/")
    assert by_name == by_address == "200 home: the owner's files"
    BATTERY.record(
        "the same private container once HEARTH_EGRESS_ALLOW names it (by host, then by address)",
        "reachable",
        f"{by_name}",
    )


async def test_a_manifest_narrows_its_skill_to_its_hosts(
    open_sandbox: Any, skills: dict[str, SkillManifest], home: Home
) -> None:
    sandbox = await open_sandbox("home.test", "redirector.test")
    own = await sandbox.run(skills["narrow"], {"url": f"http://redirector.test:{home.redirector_port}/"}, "a")
    other = await sandbox.run(skills["narrow"], {"url": f"http://home.test:{home.home_port}/"}, "a")
    assert (own, other) == ("200 home: the owner's files", "403 refused")


def test_the_allowance_splits_into_networks_and_names() -> None:
    found = allowed(["nas.lan", "192.168.1.20", "10.0.5.0/24", "fd00::1"])
    assert found == Allowed(("192.168.1.20/32", "10.0.5.0/24", "fd00::1/128"), ("nas.lan",))
    with pytest.raises(EgressError, match="HEARTH_EGRESS_ALLOW: 'nas lan' is not a host name"):
        allowed(["nas lan"])


def test_the_configuration_refuses_before_it_allows() -> None:
    conf = squid_conf([SkillNet("fetch", "172.30.0.0/16", ("api.example.org",))], Allowed(("10.0.5.0/24",)))
    rules = [line for line in conf.splitlines() if line.startswith("http_access")]
    assert rules == [
        "http_access deny !skills",
        "http_access deny skill_fetch !hosts_fetch",
        "http_access allow allowed_dst",
        "http_access deny blocked",
        "http_access deny CONNECT !SSL_ports",
        "http_access deny !Safe_ports",
        "http_access allow skills",
        "http_access deny all",
    ]
    blocked = next(line for line in conf.splitlines() if line.startswith("acl blocked dst "))
    for network in ("10.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10", "224.0.0.0/4"):
        assert f" {network}" in blocked


@pytest.mark.parametrize(
    ("line", "refused"),
    [
        ("1796165125.617 172.21.0.3 TCP_DENIED/403 GET http://10.1.2.3/ -", True),
        ("1796165125.620 172.21.0.3 TCP_DENIED/403 CONNECT 10.1.2.3:443 -", True),
        ("1796165125.700 172.21.0.3 TCP_MISS/200 GET http://example.org/ 93.184.215.14", False),
    ],
)
def test_the_log_says_who_asked_for_what(line: str, refused: bool) -> None:
    request = parse_log(line)
    assert request is not None
    assert (request.client, request.refused) == ("172.21.0.3", refused)
    assert parse_log("2026/12/01 22:45:16| Accepting HTTP Socket connections") is None


async def test_hearth_skills_run_goes_through_the_proxy(test_image: str, tmp_path: Path, home: Home) -> None:
    env = hearth_env(
        tmp_path / "data",
        "http://127.0.0.1:9",
        HEARTH_SKILLS_DIR=str(TEST_SKILLS_DIR),
        HEARTH_WORKER_IMAGE=test_image,
        HEARTH_WORKER_BASE_IMAGE=BASE_IMAGE,
    )
    url = json.dumps({"url": f"http://{home.address}:{home.home_port}/"})
    code, out, err = await run_hearth("skills", "run", "beacon", url, env=env, cwd=tmp_path, timeout_s=90)
    assert (code, out.strip()) == (0, "403 refused"), err
