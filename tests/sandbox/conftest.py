"""Fixtures for the Docker tests: skip without an engine, unless HEARTH_REQUIRE_DOCKER=1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.errors import SandboxError
from assistant.sandbox.manifest import SkillManifest, load_skills
from assistant.sandbox.runner import DockerSandbox
from assistant.settings import SKILLS_DIR
from tests.sandbox.docker_env import (
    BASE_IMAGE,
    REQUIRE_DOCKER,
    TEST_INSTANCE,
    TEST_SKILLS_DIR,
    bridge_gateway,
    connect,
    ensure_test_image,
)


def unavailable(reason: str) -> None:
    if REQUIRE_DOCKER:
        pytest.fail(f"HEARTH_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    try:
        client = connect()
    except SandboxError as exc:
        unavailable(str(exc))
    yield client
    client.close()


@pytest.fixture(scope="session")
def test_image(docker_client: Any) -> str:
    try:
        return ensure_test_image(docker_client)
    except SandboxError as exc:
        unavailable(f"the worker images could not be built: {exc}")
        raise


@pytest.fixture(scope="session")
def skills() -> dict[str, SkillManifest]:
    return {**load_skills(SKILLS_DIR).skills, **load_skills(TEST_SKILLS_DIR).skills}


@pytest.fixture
def sandbox_config(test_image: str, tmp_path: Path, docker_client: Any) -> SandboxConfig:
    """The test skills on the test image; `fetch` may reach the servers tests start on the host's
    bridge address, which the owner would have to allow (HEARTH_EGRESS_ALLOW) for a private one."""
    return SandboxConfig(
        skills_dir=TEST_SKILLS_DIR,
        workspaces_dir=tmp_path / "workspaces",
        image=test_image,
        base_image=BASE_IMAGE,
        instance=TEST_INSTANCE,
        max_containers=4,
        idle_s=60,
        egress_allow=(bridge_gateway(docker_client),),
    )


@pytest.fixture
async def sandbox(
    sandbox_config: SandboxConfig, skills: dict[str, SkillManifest]
) -> AsyncIterator[DockerSandbox]:
    sandbox = DockerSandbox(sandbox_config, [skills["fetch"]])
    await sandbox.start()
    yield sandbox
    await sandbox.close()
