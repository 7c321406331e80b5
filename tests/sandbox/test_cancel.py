"""Cancelled skill calls against a real engine: the warm pool stays sound and nothing is left behind."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.container import instance_filter
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.runner import DockerSandbox
from assistant.sandbox.tool import call_skill
from tests.sandbox.docker_env import TEST_INSTANCE

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

HOSTNAME = "import socket; print(socket.gethostname())"
SLOW = "import time; time.sleep(4); print('late')"
WAIT_S = 20
CANCEL_S = 5


@pytest.fixture
async def own(sandbox_config: SandboxConfig) -> AsyncIterator[DockerSandbox]:
    """A sandbox with its own instance label, so no other test's containers are counted (or removed)."""
    config = replace(sandbox_config, instance=f"{TEST_INSTANCE}-{uuid.uuid4().hex[:8]}")
    sandbox = DockerSandbox(config)
    yield sandbox
    await sandbox.close()


def containers(client: Any, sandbox: DockerSandbox) -> list[Any]:
    """Every container with the sandbox's label, created or running or stopped (sparse: no inspect, which
    could race a removal)."""
    labelled = instance_filter(sandbox.config.instance)
    return list(client.containers.list(all=True, sparse=True, filters=labelled))


async def until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def cancelled(task: asyncio.Task[str]) -> float:
    """Cancel `task`; the seconds until the cancellation came through."""
    began = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return time.perf_counter() - began


async def test_after_a_cancelled_call_the_next_one_runs_in_a_fresh_container(
    own: DockerSandbox, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    python = skills["python"]
    first = await call_skill(own, python, {"code": HOSTNAME}, "c")
    slow = asyncio.create_task(call_skill(own, python, {"code": SLOW}, "c"))
    await asyncio.sleep(0.5)  # the request is in the container, which is busy with it
    await cancelled(slow)
    second = await call_skill(own, python, {"code": HOSTNAME}, "c")
    assert second != first
    (left,) = containers(docker_client, own)
    assert left.id.startswith(second.strip())


@pytest.mark.parametrize(
    ("skill", "states", "then_s"),
    [
        ("echo", {"created", "running"}, 0.0),  # cancelled while the engine creates and starts it
        ("sluggish", {"running"}, 1.0),  # cancelled while it loads, before it says it is ready
    ],
)
async def test_a_cancelled_cold_start_leaves_no_container(
    own: DockerSandbox,
    skills: dict[str, SkillManifest],
    docker_client: Any,
    skill: str,
    states: set[str],
    then_s: float,
) -> None:
    start = asyncio.create_task(call_skill(own, skills[skill], {}, "c"))
    # docker-py's list is blocking; asking in a thread lets the cold start go on meanwhile.
    while not any(c.status in states for c in await asyncio.to_thread(containers, docker_client, own)):
        assert not start.done(), "the cold start finished before it could be cancelled"
    await asyncio.sleep(then_s)
    # Prompt: a worker still loading (sluggish takes 10 s) is hung up on, not waited for.
    assert await cancelled(start) < CANCEL_S
    assert containers(docker_client, own) == []
    assert len(own.pool) == 0


async def test_a_call_cancelled_while_evicting_gives_its_slot_back(
    sandbox_config: SandboxConfig, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    instance = f"{TEST_INSTANCE}-{uuid.uuid4().hex[:8]}"
    sandbox = DockerSandbox(replace(sandbox_config, instance=instance, max_containers=1))
    echo = skills["echo"]
    try:
        await call_skill(sandbox, echo, {}, "a")  # the pool is full
        evicting = asyncio.create_task(call_skill(sandbox, echo, {}, "b"))
        await until(lambda: sandbox.pool.keys() == [])  # a is out of the pool, its container going
        await cancelled(evicting)
        async with asyncio.timeout(WAIT_S):
            assert await call_skill(sandbox, echo, {"n": 1}, "c") == '{"n": 1}'
            assert await call_skill(sandbox, echo, {"n": 2}, "d") == '{"n": 2}'
        assert sandbox.pool.keys() == [("echo", "d")]
    finally:
        await sandbox.close()
    assert containers(docker_client, sandbox) == []
