"""Workspaces as named volumes on the engine, for an engine that does not share Hearth's disk.

Hearth never sees the volume's files directly. It reads them as a tar stream through the Docker
API (`get_archive` on the chat's worker), and changes them only through short-lived helper
containers from the worker image: one gives a new volume to the worker's user, one removes what a
call added past the quota. The helpers run fixed code of Hearth's, locked down like a skill.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from assistant.sandbox.container import (
    LABEL_CHAT,
    LABEL_INSTANCE,
    WORKER_UID,
    WORKSPACE_MOUNT,
    locked_down,
    workspace_dir_name,
)
from assistant.sandbox.errors import EngineUnavailableError
from assistant.sandbox.manifest import Limits
from assistant.sandbox.quota import ENTRY_MIN_BYTES, Snapshot

logger = logging.getLogger(__name__)

VOLUME_PREFIX = "hearth-workspace-"
LABEL_ROLE = "org.hearth.role"
ROLE = "workspace"
# Every scan copies the whole workspace over the network, so a running call is measured less often.
WATCH_INTERVAL_S = 2.0
HELPER_TIMEOUT_S = 60
HELPER_LIMITS = Limits(timeout_s=HELPER_TIMEOUT_S, memory_mb=64, cpus=0.5, pids=8)
PLAN_NAME = ".hearth-undo.json"
Plan = list[tuple[str, int]]  # (path in the workspace, length to cut it to, or -1 to remove it)

OWN = f"""
import os
os.chmod({WORKSPACE_MOUNT!r}, 0o700)
os.chown({WORKSPACE_MOUNT!r}, {WORKER_UID}, {WORKER_UID})
"""
UNDO = f"""
import json, os, shutil
plan_path = os.path.join({WORKSPACE_MOUNT!r}, {PLAN_NAME!r})
with open(plan_path) as plan_file:
    plan = json.load(plan_file)
os.unlink(plan_path)
for name, length in plan:
    path = os.path.join({WORKSPACE_MOUNT!r}, name)
    try:
        if length >= 0:
            os.truncate(path, length)
        elif os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError as exc:
        print("could not undo", name, exc)
"""


def volume_name(chat_key: str) -> str:
    """The chat's volume: readable, a valid volume name, and distinct for distinct chats."""
    return VOLUME_PREFIX + workspace_dir_name(chat_key)


def ensure_volume(client: Any, image: str, instance: str, chat_key: str) -> str:
    """The chat's volume, made (and given to the worker's user) if it is not there. Blocking;
    EngineUnavailableError if the engine refuses."""
    import docker.errors

    name = volume_name(chat_key)
    try:
        client.volumes.get(name)
        return name
    except docker.errors.NotFound:
        pass
    labels = {LABEL_ROLE: ROLE, LABEL_CHAT: workspace_dir_name(chat_key)}
    try:
        client.volumes.create(name, labels=labels)
    except docker.errors.DockerException as exc:
        raise EngineUnavailableError(f"could not create the workspace volume {name}: {exc}") from exc
    # A new volume belongs to root; only root can hand it over, with the one capability that takes.
    run_helper(client, image, instance, name, OWN, user="0:0", cap_add=["CHOWN"])
    logger.info("created the workspace volume %s", name)
    return name


def run_helper(
    client: Any,
    image: str,
    instance: str,
    volume: str,
    code: str,
    *,
    user: str | None = None,
    cap_add: list[str] | None = None,
    files: dict[str, bytes] | None = None,
) -> None:
    """Run `code` in a locked-down container with `volume` at the workspace mount, after putting
    `files` into it. Blocking; EngineUnavailableError when it cannot run or fails."""
    import docker.errors
    import requests.exceptions

    options = locked_down(image, limits=HELPER_LIMITS, labels={LABEL_INSTANCE: instance}, environment={})
    options.update(
        entrypoint=["python3", "-c", code],
        stdin_open=False,
        volumes={volume: {"bind": WORKSPACE_MOUNT, "mode": "rw"}},
    )
    if user is not None:
        options["user"] = user
    if cap_add:
        options["cap_add"] = cap_add
    container = None
    try:
        container = client.containers.create(**options)
        if files:
            container.put_archive(WORKSPACE_MOUNT, tar_of(files))
        container.start()
        status = container.wait(timeout=HELPER_TIMEOUT_S).get("StatusCode")
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineUnavailableError(f"a workspace helper could not run on {volume}: {exc}") from exc
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except docker.errors.DockerException:
                logger.warning("could not remove a workspace helper of %s", volume)
    if status != 0:
        raise EngineUnavailableError(f"a workspace helper on {volume} failed (exit status {status})")


def tar_of(files: dict[str, bytes]) -> bytes:
    """A tar of `files`, owned by the worker's user and readable by it alone."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            info.uid = info.gid = WORKER_UID
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class ChunkReader(io.RawIOBase):
    """A file over an iterator of byte chunks, so tarfile can read a stream as it arrives."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def snapshot_of(chunks: Iterator[bytes]) -> Snapshot:
    """Measure a workspace from its tar stream (names start with the mount's last part), charging
    each entry as a folder's scan would, except that a tar knows no blocks or inodes."""
    snapshot = Snapshot()
    with tarfile.open(fileobj=io.BufferedReader(ChunkReader(chunks)), mode="r|") as archive:
        for member in archive:
            parts = PurePosixPath(member.name).parts[1:]
            if not parts:
                continue  # the workspace itself
            path = PurePosixPath(*parts)
            snapshot.used_bytes += max(member.size, ENTRY_MIN_BYTES)
            if member.isreg():
                snapshot.files[path] = (0, member.size)
            else:
                snapshot.others[path] = 0
    return snapshot


def undo_plan(before: Snapshot, after: Snapshot) -> Plan:
    """What removes the entries added since `before` (a folder with all it holds) and cuts files
    that grew back to their old length. By name: a tar cannot tell a replaced file from the old."""
    plan: Plan = []
    removed: set[PurePosixPath] = set()
    for path in sorted([*after.files, *after.others]):
        if removed.intersection(path.parents):
            continue
        if path in after.files:
            old = before.files.get(path)
            if old is not None:
                if after.files[path][1] > old[1]:
                    plan.append((str(path), old[1]))
                continue
        elif path in before.others:
            continue
        plan.append((str(path), -1))
        removed.add(path)
    return plan


@dataclass(frozen=True)
class Volume:
    """A chat's workspace volume, read through the container of the worker it is mounted in."""

    client: Any
    container: Any
    image: str
    instance: str
    name: str
    watch_interval_s: float = WATCH_INTERVAL_S

    def __str__(self) -> str:
        return f"volume {self.name}"

    def scan(self) -> Snapshot:
        import docker.errors
        import requests.exceptions

        try:
            chunks, _ = self.container.get_archive(WORKSPACE_MOUNT)
            return snapshot_of(iter(chunks))
        except (docker.errors.DockerException, requests.exceptions.RequestException, tarfile.TarError) as exc:
            raise OSError(f"could not read {self}: {exc}") from exc

    def undo(self, before: Snapshot, after: Snapshot) -> None:
        plan = undo_plan(before, after)
        if plan:
            files = {PLAN_NAME: json.dumps(plan).encode()}
            run_helper(self.client, self.image, self.instance, self.name, UNDO, files=files)
