"""deploy/Caddyfile, with Debian's caddy: read by Caddy itself (the webhooks and signed media links
always, the dashboard only with HEARTH_DASHBOARD_PUBLIC=1, a value Caddy cannot place stops it), and in
front of a real Hearth, where only those paths pass."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from assistant.settings import Settings
from tests.channels.webhooks import VERIFY_TOKEN, whatsapp_settings
from tests.conftest import AUTH, AppClient, MakeClient
from tests.fakes.graph import GraphFake
from tests.process import free_port

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile"
REQUIRE = os.environ.get("HEARTH_REQUIRE_CADDY") == "1"


def binary() -> str:
    found = shutil.which("caddy")
    if found is None:
        if REQUIRE:
            pytest.fail("HEARTH_REQUIRE_CADDY=1 but there is no caddy (apt-get install caddy)")
        pytest.skip("no caddy binary (apt-get install caddy)")
    return found


@pytest.fixture
async def caddy(
    tmp_path: Path, aiohttp_client: MakeClient, settings: Settings, graph: GraphFake
) -> AsyncIterator[str]:
    """The URL of caddy running the Caddyfile in front of a Hearth on loopback."""
    caddy_binary = binary()
    from assistant.app import create_app

    hearth: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph)))
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "caddy-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "caddy-config"),
        "HEARTH_DOMAIN": f"http://127.0.0.1:{port}",
        "HEARTH_UPSTREAM": f"127.0.0.1:{hearth.server.port}",
    }
    args = ("run", "--config", str(CADDYFILE), "--adapter", "caddyfile")
    log = (tmp_path / "caddy.log").open("wb")
    proc = await asyncio.create_subprocess_exec(caddy_binary, *args, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(15), aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(url):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        await proc.wait()
        log.close()


async def test_only_the_webhooks_pass(caddy: str) -> None:
    challenge = f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=4711"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{caddy}/webhooks/whatsapp?{challenge}") as passed:
            assert (passed.status, await passed.text()) == (200, "4711")
        async with http.post(f"{caddy}/webhooks/whatsapp", data=b"{}") as unsigned:
            assert unsigned.status == 403  # Hearth's own answer: the request reached it
        for method, path in [
            ("POST", "/v1/messages"),
            ("GET", "/v1/chats/anna/messages"),
            ("GET", "/metrics"),
            ("GET", "/healthz"),
            ("GET", "/"),
            ("GET", "/webhooks"),
            ("GET", "/webhooks/../metrics"),
            ("GET", "/%2e%2e/metrics"),
        ]:
            async with http.request(method, caddy + path, headers=AUTH, json={"chat": "a", "text": "b"}) as r:
                assert (path, r.status) == (path, 404)


def adapt(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    caddy = binary()
    # Caddy's own storage goes to the test's folder, not the user's.
    base = {"PATH": os.environ["PATH"], "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    command = [caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    return subprocess.run(command, env={**base, **env}, capture_output=True, text=True, check=False)


def paths(config: Any) -> set[str]:
    """Every path a route matches, anywhere in the adapted JSON."""
    found: set[str] = set()
    if isinstance(config, dict):
        found.update(config.get("path", []) if isinstance(config.get("path"), list) else [])
        for value in config.values():
            found |= paths(value)
    elif isinstance(config, list):
        for value in config:
            found |= paths(value)
    return found


@pytest.mark.parametrize(
    ("public", "expected"), [(None, {"/webhooks/*", "/media/*"}), ("0", {"/webhooks/*", "/media/*"})]
)
def test_only_the_webhooks_are_published_by_default(
    tmp_path: Path, public: str | None, expected: set[str]
) -> None:
    env = {"HEARTH_DOMAIN": "hearth.example.org"} | ({"HEARTH_DASHBOARD_PUBLIC": public} if public else {})
    done = adapt(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    assert paths(config) == expected
    assert "hearth.example.org" in done.stdout


def test_the_dashboard_is_published_when_asked(tmp_path: Path) -> None:
    done = adapt(tmp_path, HEARTH_DOMAIN="hearth.example.org", HEARTH_DASHBOARD_PUBLIC="1")
    assert done.returncode == 0, done.stderr
    assert paths(json.loads(done.stdout)) == {"/webhooks/*", "/media/*", "/ui/*"}


def test_an_unknown_value_stops_caddy(tmp_path: Path) -> None:
    done = adapt(tmp_path, HEARTH_DOMAIN="hearth.example.org", HEARTH_DASHBOARD_PUBLIC="yes")
    assert done.returncode != 0
    assert "dashboard-yes" in done.stderr
