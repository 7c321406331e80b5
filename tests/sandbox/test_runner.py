"""The Docker sandbox against a real engine: skills, workspaces, the warm pool, clean-up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.container import LABEL_INSTANCE, instance_filter
from assistant.sandbox.errors import SkillError
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.runner import DockerSandbox
from assistant.sandbox.service import run_skill
from assistant.sandbox.tool import call_skill
from assistant.settings import SKILLS_DIR
from tests.sandbox.docker_env import TEST_INSTANCE, bridge_gateway

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

ServerFactory = Callable[..., Awaitable[TestServer]]


def running(client: Any, instance: str = TEST_INSTANCE) -> list[Any]:
    return list(client.containers.list(filters=instance_filter(instance)))


async def test_python_runs_a_snippet_and_returns_what_it_printed(
    sandbox: DockerSandbox, skills: dict[str, SkillManifest]
) -> None:
    result = await call_skill(sandbox, skills["python"], {"code": "print(sum(range(10)))"}, "c")
    assert result == "45\n"
    with pytest.raises(SkillError, match="ZeroDivisionError"):
        await call_skill(sandbox, skills["python"], {"code": "1/0"}, "c")


async def test_the_container_is_locked_down(
    sandbox: DockerSandbox, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    await call_skill(sandbox, skills["hostile"], {"attack": "ping"}, "c")
    (container,) = running(docker_client)
    host = container.attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["Memory"] == host["MemorySwap"] == 64 * 1024 * 1024
    assert host["PidsLimit"] == 24
    assert host["NanoCpus"] == 500_000_000
    assert host["Privileged"] is False
    assert container.attrs["Config"]["User"] == "10001:10001"
    mounts = container.attrs["Mounts"]
    assert [m["Destination"] for m in mounts if m["Type"] == "bind"] == ["/workspace"]
    assert "docker.sock" not in str(mounts)


async def test_notes_stay_with_their_chat(sandbox: DockerSandbox, skills: dict[str, SkillManifest]) -> None:
    notes = skills["notes"]
    assert await call_skill(sandbox, notes, {"action": "add", "text": "buy milk"}, "a") == ("Saved note 1.")
    await call_skill(sandbox, notes, {"action": "add", "text": "call Ana"}, "a")
    assert await call_skill(sandbox, notes, {"action": "search", "query": "MILK"}, "a") == ("1. buy milk")
    assert await call_skill(sandbox, notes, {"action": "list"}, "b") == "There are no notes yet."
    await call_skill(sandbox, notes, {"action": "delete", "id": 1}, "a")
    assert await call_skill(sandbox, notes, {"action": "list"}, "a") == "2. call Ana"
    with pytest.raises(SkillError, match="no note 7"):
        await call_skill(sandbox, notes, {"action": "delete", "id": 7}, "a")


async def test_fetch_reaches_a_server_and_strips_the_markup(
    sandbox: DockerSandbox,
    skills: dict[str, SkillManifest],
    docker_client: Any,
    aiohttp_server: ServerFactory,
) -> None:
    page = "<html><head><title>t</title><script>evil()</script></head><body><h1>Hello</h1>"
    page += "<p>plain &amp; simple</p><style>p{}</style></body></html>"

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app, host=bridge_gateway(docker_client))
    url = f"http://{server.host}:{server.port}/"
    assert await call_skill(sandbox, skills["fetch"], {"url": url}, "c") == "Hello\nplain & simple"


async def test_workers_stay_warm_per_skill_and_chat(
    sandbox: DockerSandbox, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    echo = skills["echo"]
    for chat in ("a", "b", "a", "b"):
        assert await call_skill(sandbox, echo, {"n": 1}, chat) == '{"n": 1}'
    assert sorted(c.labels["org.hearth.skill"] for c in running(docker_client)) == ["echo", "echo"]


async def test_the_least_recently_used_gives_way(
    sandbox_config: SandboxConfig, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    sandbox = DockerSandbox(SandboxConfig(**{**vars(sandbox_config), "max_containers": 2}))
    try:
        for chat in ("a", "b", "a", "c"):
            await call_skill(sandbox, skills["echo"], {}, chat)
        chats = sorted(c.labels["org.hearth.chat"][:1] for c in running(docker_client))
        assert chats == ["a", "c"]
    finally:
        await sandbox.close()
    assert running(docker_client) == []


async def test_idle_workers_are_removed(
    sandbox_config: SandboxConfig, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    sandbox = DockerSandbox(SandboxConfig(**{**vars(sandbox_config), "idle_s": 0.5}))
    await sandbox.start()
    try:
        await call_skill(sandbox, skills["echo"], {}, "a")
        assert len(running(docker_client)) == 1
        await asyncio.sleep(2)
        assert running(docker_client) == []
    finally:
        await sandbox.close()


async def test_a_container_killed_from_outside_is_replaced(
    sandbox: DockerSandbox, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    await call_skill(sandbox, skills["echo"], {}, "a")
    (container,) = running(docker_client)
    container.kill()
    await asyncio.sleep(0.2)
    assert await call_skill(sandbox, skills["echo"], {"again": True}, "a") == '{"again": true}'
    (replacement,) = running(docker_client)
    assert replacement.id != container.id


async def test_leftovers_of_a_previous_run_are_removed_at_start(
    sandbox_config: SandboxConfig, test_image: str, docker_client: Any
) -> None:
    labels = {LABEL_INSTANCE: TEST_INSTANCE}
    leftover = docker_client.containers.create(test_image, labels=labels, network_mode="none")
    sandbox = DockerSandbox(sandbox_config)
    await sandbox.start()
    await sandbox.close()
    import docker.errors

    with pytest.raises(docker.errors.NotFound):
        leftover.reload()


async def test_run_skill_goes_through_the_real_sandbox(sandbox_config: SandboxConfig) -> None:
    config = SandboxConfig(**{**vars(sandbox_config), "skills_dir": SKILLS_DIR})
    assert await run_skill(config, "python", '{"code": "print(6 * 7)"}') == "42\n"
