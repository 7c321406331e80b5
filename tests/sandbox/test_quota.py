"""HEARTH_WORKSPACE_MAX_MB with real skill containers: a call that fills its chat's workspace past the
limit is stopped, what it added is removed, and the model reads a short reason; what a skill writes
only for itself is opened to Hearth's user, so backups can read it."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistant.agent.tools import ToolContext, ToolError
from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.errors import WorkspaceFullError
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.runner import DockerSandbox, workspace_path
from assistant.sandbox.tool import SkillTool
from assistant.store.columns import utcnow

CHAT = "whatsapp:+15550001111"


async def started(config: SandboxConfig, **changes: Any) -> DockerSandbox:
    # An instance label of its own: a sandbox starting elsewhere removes its label's leftovers.
    instance = f"{config.instance}-quota-{uuid.uuid4().hex[:8]}"
    sandbox = DockerSandbox(dataclasses.replace(config, instance=instance, **changes))
    await sandbox.start()
    return sandbox


@pytest.fixture
async def small(sandbox_config: SandboxConfig) -> AsyncIterator[DockerSandbox]:
    """A sandbox whose workspaces may hold 1 MB each."""
    sandbox = await started(sandbox_config, workspace_max_mb=1)
    yield sandbox
    await sandbox.close()


def names(workspace: Path) -> list[str]:
    return sorted(str(p.relative_to(workspace)) for p in workspace.rglob("*"))


def context() -> ToolContext:
    return ToolContext(chat_id=1, chat_key=CHAT, timezone=ZoneInfo("UTC"), now=utcnow(), call_key="call-1")


async def test_a_call_past_the_limit_fails_and_what_it_added_is_removed(
    small: DockerSandbox, skills: dict[str, SkillManifest]
) -> None:
    filler = skills["filler"]
    workspace = workspace_path(small.config.workspaces_dir, CHAT)
    assert "256 KB" in await small.run(filler, {"action": "write", "name": "kept.bin", "kb": 256}, CHAT)

    with pytest.raises(WorkspaceFullError, match="limit of 1 MB"):
        await small.run(filler, {"action": "write", "name": "more/big.bin", "kb": 2048}, CHAT)

    assert names(workspace) == ["kept.bin"]
    assert (workspace / "kept.bin").stat().st_size == 256 * 1024
    # The worker was replaced, and the chat's workspace is usable again.
    assert "wrote" in await small.run(filler, {"action": "write", "name": "next.bin", "kb": 128}, CHAT)


async def test_a_file_grown_past_the_limit_is_cut_back(
    small: DockerSandbox, skills: dict[str, SkillManifest]
) -> None:
    filler = skills["filler"]
    workspace = workspace_path(small.config.workspaces_dir, CHAT)
    await small.run(filler, {"action": "write", "name": "log.bin", "kb": 128}, CHAT)

    with pytest.raises(WorkspaceFullError):
        await small.run(filler, {"action": "write", "name": "log.bin", "kb": 2048}, CHAT)

    assert (workspace / "log.bin").stat().st_size == 128 * 1024


async def test_a_slow_filler_is_stopped_while_it_runs(
    small: DockerSandbox, skills: dict[str, SkillManifest]
) -> None:
    workspace = workspace_path(small.config.workspaces_dir, CHAT)
    started = time.monotonic()

    # 160 chunks of 64 KB, 50 ms apart: 10 MB in 8 s, were it let run.
    with pytest.raises(WorkspaceFullError):
        await small.run(
            skills["filler"], {"action": "write", "name": "slow.bin", "kb": 10240, "pause_s": 0.05}, CHAT
        )

    assert time.monotonic() - started < 4
    assert names(workspace) == []


async def test_the_model_reads_a_short_reason(small: DockerSandbox, skills: dict[str, SkillManifest]) -> None:
    tool = SkillTool(skills["filler"], small)

    with pytest.raises(ToolError) as caught:
        await tool.call({"action": "write", "name": "big.bin", "kb": 4096}, context())

    assert str(caught.value) == (
        "filler failed: this chat's workspace went past its limit of 1 MB; "
        "the call was stopped and what it added was removed"
    )


async def test_private_files_are_opened_to_hearths_user(
    sandbox_config: SandboxConfig, skills: dict[str, SkillManifest]
) -> None:
    sandbox = await started(sandbox_config)
    try:
        await sandbox.run(skills["filler"], {"action": "private"}, CHAT)
    finally:
        await sandbox.close()

    workspace = workspace_path(sandbox.config.workspaces_dir, CHAT)
    modes = {name: (workspace / name).stat().st_mode & 0o777 for name in names(workspace)}
    assert modes == {"closed": 0o755, "closed/inside.txt": 0o644, "private.txt": 0o644}
