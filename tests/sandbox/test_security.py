"""The security battery: a hostile skill tries to break out; every attempt must fail as its own."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from assistant.sandbox.errors import SandboxError, SkillError, SkillTimeoutError, WorkerError
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.runner import DockerSandbox, ensure_workspace
from assistant.sandbox.tool import call_skill
from tests.sandbox.docker_env import bridge_gateway

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

ServerFactory = Callable[..., Awaitable[TestServer]]
ATTACKER = "attacker"


async def attack(sandbox: DockerSandbox, hostile: SkillManifest, **args: Any) -> str:
    return await call_skill(sandbox, hostile, args, ATTACKER)


async def assert_still_serving(sandbox: DockerSandbox, hostile: SkillManifest) -> None:
    assert await attack(sandbox, hostile, attack="ping") == "pong"


@pytest.fixture
def hostile(skills: dict[str, SkillManifest]) -> SkillManifest:
    return skills["hostile"]


@pytest.mark.parametrize(
    ("name", "contained"),
    [
        ("write_outside", "root and /tmp exec refused; /workspace writable"),
        ("docker_socket", "no Docker socket"),
        ("setuid", "still uid 10001"),
        ("fork_bomb", "fork refused after"),
    ],
)
async def test_the_attempt_fails_as_the_skills_own_failure(
    sandbox: DockerSandbox, hostile: SkillManifest, name: str, contained: str
) -> None:
    with pytest.raises(SkillError, match="contained: ") as caught:
        await attack(sandbox, hostile, attack=name)
    assert contained in str(caught.value)
    await assert_still_serving(sandbox, hostile)


async def test_no_network_without_the_permission(
    sandbox: DockerSandbox,
    skills: dict[str, SkillManifest],
    hostile: SkillManifest,
    docker_client: Any,
    aiohttp_server: ServerFactory,
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="secret")

    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app, host=bridge_gateway(docker_client))
    url = f"http://{server.host}:{server.port}/"
    # The same server answers a skill that holds the permission, so the refusal below is real.
    assert await call_skill(sandbox, skills["fetch"], {"url": url}, ATTACKER) == "secret"
    with pytest.raises(SkillError, match="contained: no network"):
        await attack(sandbox, hostile, attack="network", target=url)
    await assert_still_serving(sandbox, hostile)


async def test_another_chats_workspace_is_out_of_sight(
    sandbox: DockerSandbox, hostile: SkillManifest
) -> None:
    victim = ensure_workspace(sandbox.config.workspaces_dir, "victim")
    (victim / "victim-secret.txt").write_text("private")
    with pytest.raises(SkillError, match="contained: no other chat's file"):
        await attack(sandbox, hostile, attack="read_other_chat", target="victim-secret.txt")
    # The attacker's own workspace is the one it can see and write.
    own = ensure_workspace(sandbox.config.workspaces_dir, ATTACKER)
    (own / "mine.txt").write_text("mine")
    assert await attack(sandbox, hostile, attack="read_other_chat", target="mine.txt") == (
        "escaped: found /workspace/mine.txt"
    )


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("memory", WorkerError, "out of memory"),
        ("spin", SkillTimeoutError, "time limit"),
        ("flood", WorkerError, "larger than"),
        ("garble", WorkerError, "not JSON"),
    ],
)
async def test_the_worker_is_stopped_and_replaced(
    sandbox: DockerSandbox,
    hostile: SkillManifest,
    name: str,
    error: type[SandboxError],
    message: str,
) -> None:
    started_at = time.monotonic()
    with pytest.raises(error, match=message):
        await attack(sandbox, hostile, attack=name)
    assert time.monotonic() - started_at < hostile.limits.timeout_s + 3
    await assert_still_serving(sandbox, hostile)


def test_the_battery_workspaces_are_distinct(tmp_path: Path) -> None:
    assert ensure_workspace(tmp_path, ATTACKER) != ensure_workspace(tmp_path, "victim")
