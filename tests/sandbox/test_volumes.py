"""HEARTH_SKILL_WORKSPACES=volume against a real engine reached over TLS: a chat's workspace is a
named volume, nothing of Hearth's disk is mounted, and what Hearth needs comes through the API."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistant.agent.tools import ToolContext
from assistant.ops.deploy import check_docker
from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.container import WORKSPACE_MOUNT, instance_filter
from assistant.sandbox.errors import WorkspaceFullError
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.quota import ENTRY_MIN_BYTES
from assistant.sandbox.runner import DockerSandbox
from assistant.sandbox.tool import SkillTool
from assistant.sandbox.volumes import LABEL_ROLE, ROLE, snapshot_of, undo_plan, volume_name
from assistant.settings import SKILLS_DIR, Settings
from assistant.store.columns import utcnow
from tests.sandbox.tls_engine import TlsEngine, make_certificates


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[TlsEngine]:
    engine = TlsEngine(make_certificates(tmp_path_factory.mktemp("engine-certs")))
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def remote(tls_engine: TlsEngine, monkeypatch: pytest.MonkeyPatch) -> TlsEngine:
    """The Docker client of the code under test reaches the engine only through the TLS listener."""
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{tls_engine.port}")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tls_engine.certs))
    # requests lets these name the CA for every request, over the one the Docker client gives it.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return tls_engine


@pytest.fixture
def chat(docker_client: Any) -> Iterator[str]:
    """A chat of its own, whose volume is removed after the test."""
    key = f"whatsapp:+1555{uuid.uuid4().int % 10**7:07d}"
    yield key
    # Whatever still uses the volume (a worker a failed test left) goes first.
    for container in docker_client.containers.list(all=True, filters={"volume": volume_name(key)}):
        container.remove(force=True)
    for volume in docker_client.volumes.list(filters={"name": volume_name(key)}):
        volume.remove(force=True)


def config_for(sandbox_config: SandboxConfig, **changes: Any) -> SandboxConfig:
    instance = f"{sandbox_config.instance}-volume-{uuid.uuid4().hex[:8]}"
    return dataclasses.replace(sandbox_config, instance=instance, skill_workspaces="volume", **changes)


@pytest.fixture
async def sandbox(sandbox_config: SandboxConfig, remote: TlsEngine) -> AsyncIterator[DockerSandbox]:
    sandbox = DockerSandbox(config_for(sandbox_config))
    await sandbox.start()
    yield sandbox
    await sandbox.close()


def context(chat: str) -> ToolContext:
    return ToolContext(chat_id=1, chat_key=chat, timezone=ZoneInfo("UTC"), now=utcnow(), call_key="call-1")


async def test_a_file_kept_in_the_volume_comes_back_with_the_reply(
    chat: str, sandbox: DockerSandbox, remote: TlsEngine, skills: dict[str, SkillManifest], docker_client: Any
) -> None:
    carrier = skills["carrier"]
    before = remote.connections
    assert await sandbox.run(carrier, {"action": "keep", "name": "report.txt", "text": "kept remotely"}, chat)

    (container,) = docker_client.containers.list(filters=instance_filter(sandbox.config.instance))
    mounts = container.attrs["Mounts"]
    assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [
        ("volume", volume_name(chat), WORKSPACE_MOUNT)
    ]
    assert not container.attrs["HostConfig"].get("Binds") or all(
        not bind.startswith("/") for bind in container.attrs["HostConfig"]["Binds"]
    )
    volume = docker_client.volumes.get(volume_name(chat))
    assert volume.attrs["Labels"][LABEL_ROLE] == ROLE
    assert not await asyncio.to_thread(sandbox.config.workspaces_dir.exists)  # nothing on Hearth's disk
    assert remote.connections > before  # the calls went through the TLS listener

    # A new worker (after a restart) finds the file, and it rides on the reply to the person.
    await sandbox.pool.close()
    ctx = context(chat)
    result = await SkillTool(carrier, sandbox).call({"action": "send", "name": "report.txt"}, ctx)
    assert "[attached to your reply: report.txt (13 bytes)]" in result
    assert [(f.name, f.data) for f in ctx.files] == [("report.txt", b"kept remotely")]


async def test_a_call_past_the_limit_is_undone_in_the_volume(
    chat: str, sandbox_config: SandboxConfig, remote: TlsEngine, skills: dict[str, SkillManifest]
) -> None:
    sandbox = DockerSandbox(config_for(sandbox_config, workspace_max_mb=1))
    await sandbox.start()
    try:
        filler, carrier = skills["filler"], skills["carrier"]
        await sandbox.run(filler, {"action": "write", "name": "kept.bin", "kb": 256}, chat)
        await sandbox.run(filler, {"action": "write", "name": "log.bin", "kb": 64}, chat)

        with pytest.raises(WorkspaceFullError, match="limit of 1 MB"):
            await sandbox.run(filler, {"action": "write", "name": "more/big.bin", "kb": 2048}, chat)
        with pytest.raises(WorkspaceFullError):
            await sandbox.run(filler, {"action": "write", "name": "log.bin", "kb": 2048}, chat)

        listed = json.loads(await sandbox.run(carrier, {"action": "list"}, chat))
        assert listed == {"kept.bin": 256 * 1024, "log.bin": 64 * 1024}
    finally:
        await sandbox.close()


async def test_doctor_reaches_the_engine_over_tls_and_names_the_volumes(remote: TlsEngine) -> None:
    settings = Settings(skills_dir=SKILLS_DIR, skill_workspaces="volume")
    before = remote.connections
    engine, workspaces, _image = await check_docker(settings)
    assert (engine.ok, engine.detail) == (True, "the engine answers")
    assert remote.connections > before
    assert workspaces.detail.startswith("named Docker volumes on the engine")


def tar_stream(entries: dict[str, int | None]) -> Iterator[bytes]:
    """A workspace's tar as the engine sends it, in small chunks: a size per file, None for a folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(folder("workspace"))
        for name, size in entries.items():
            if size is None:
                archive.addfile(folder(f"workspace/{name}"))
            else:
                info = tarfile.TarInfo(f"workspace/{name}")
                info.size = size
                archive.addfile(info, io.BytesIO(b"x" * size))
    data = buffer.getvalue()
    return iter([data[i : i + 1000] for i in range(0, len(data), 1000)])


def folder(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


def test_a_tar_stream_is_measured_like_a_folder() -> None:
    snapshot = snapshot_of(tar_stream({"notes.json": 10, "big.bin": 10_000, "empty": None}))
    assert snapshot.files == {PurePosixPath("notes.json"): (0, 10), PurePosixPath("big.bin"): (0, 10_000)}
    assert snapshot.others == {PurePosixPath("empty"): 0}
    assert snapshot.used_bytes == ENTRY_MIN_BYTES + 10_000 + ENTRY_MIN_BYTES


@pytest.mark.parametrize(
    ("before", "after", "plan"),
    [
        ({"a": 5}, {"a": 5}, []),
        ({"a": 5}, {"a": 9000}, [("a", 5)]),
        ({"a": 9000}, {"a": 5}, []),
        ({}, {"new": 1}, [("new", -1)]),
        ({"d": None}, {"d": None, "d/new": 1}, [("d/new", -1)]),
        ({}, {"d": None, "d/x": 1, "d/e": None, "d/e/y": 2}, [("d", -1)]),
        ({"a": 5}, {"a": None, "a/x": 1}, [("a", -1)]),
        ({"d": None}, {"d": 3}, [("d", -1)]),
        ({"a": 5, "b": 1}, {"b": 4}, [("b", 1)]),
    ],
)
def test_the_undo_plan_removes_what_is_new_and_cuts_what_grew(
    before: dict[str, int | None], after: dict[str, int | None], plan: list[tuple[str, int]]
) -> None:
    assert undo_plan(snapshot_of(tar_stream(before)), snapshot_of(tar_stream(after))) == plan
