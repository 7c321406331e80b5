"""How much a chat's workspace holds, and undoing what a skill call added to it.

No filesystem quota is available to an unprivileged Hearth on any volume, so the workspace is
measured from outside: before a call, while it runs, and after. Every entry counts at least one
block, so a flood of empty files or folders fills the quota as surely as one big file does. A
workspace is a folder here (`Folder`) or a volume on the engine (`sandbox.volumes`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol, TypeVar

from assistant.sandbox.errors import SandboxError, WorkspaceFullError
from assistant.sandbox.tree import Entry, visit

logger = logging.getLogger(__name__)

MB = 1024 * 1024
ENTRY_MIN_BYTES = 4096
# How often a running call's workspace is measured: the most it can write past the limit is what
# it writes in this long, and that is removed again.
WATCH_INTERVAL_S = 0.5

T = TypeVar("T")


class Workspace(Protocol):
    """A chat's workspace as the quota sees it; both methods block."""

    @property
    def watch_interval_s(self) -> float:
        """How often a running call's workspace is measured."""
        ...

    def scan(self) -> Snapshot:
        """What it holds now; OSError when it cannot be read."""
        ...

    def undo(self, before: Snapshot, after: Snapshot) -> None:
        """Remove what was added since `before` (`after` is how it is now), as `undo` does."""
        ...


class Stoppable(Protocol):
    async def stop(self) -> None:
        """Kill the worker now; the call it is running fails."""
        ...


def charge(entry: Entry) -> int:
    """What one entry costs: its length or its blocks on disk, whichever is more, and at least 4 KB."""
    return max(entry.size, entry.blocks * 512, ENTRY_MIN_BYTES)


@dataclass
class Snapshot:
    """A workspace as it was: its files by path with (inode, length), its other entries by path
    with their inode, and the bytes it all counts for."""

    files: dict[PurePosixPath, tuple[int, int]] = field(default_factory=dict)
    others: dict[PurePosixPath, int] = field(default_factory=dict)
    used_bytes: int = 0


def scan(root: Path) -> Snapshot:
    """Measure `root` without following links. Blocking; OSError when `root` cannot be opened."""
    snapshot = Snapshot()

    def count(entry: Entry, _dir_fd: int) -> bool:
        snapshot.used_bytes += charge(entry)
        if entry.kind == "file":
            snapshot.files[entry.path] = (entry.inode, entry.size)
        else:
            snapshot.others[entry.path] = entry.inode
        return True

    visit(root, count)
    return snapshot


def undo(root: Path, before: Snapshot) -> None:
    """Put `root` back to `before` as far as removing can: entries that are new (or now a different
    file under an old name) are removed, folders with all they hold, and files that grew are cut
    back to their old length. What the call deleted or overwrote in place stays so. Blocking."""

    def restore(entry: Entry, dir_fd: int) -> bool:
        if entry.kind == "file":
            old = before.files.get(entry.path)
            if old is not None and old[0] == entry.inode:
                if entry.size > old[1]:
                    _cut(entry, dir_fd, old[1])
                return False
        elif before.others.get(entry.path) == entry.inode:
            return entry.kind == "folder"
        _remove(entry, dir_fd)
        return False

    visit(root, restore)


@dataclass(frozen=True)
class Folder:
    """A workspace that is a folder Hearth can reach."""

    path: Path
    watch_interval_s: float = WATCH_INTERVAL_S

    def __str__(self) -> str:
        return str(self.path)

    def scan(self) -> Snapshot:
        return scan(self.path)

    def undo(self, before: Snapshot, after: Snapshot) -> None:
        undo(self.path, before)


def _cut(entry: Entry, dir_fd: int, length: int) -> None:
    try:
        fd = os.open(entry.name, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        logger.warning("could not cut %s in a workspace back to %d bytes", entry.path, length)
        return
    try:
        if os.fstat(fd).st_ino == entry.inode:
            os.ftruncate(fd, length)
    finally:
        os.close(fd)


def _remove(entry: Entry, dir_fd: int) -> None:
    try:
        if entry.kind in ("folder", "unreadable folder"):
            # rmtree with dir_fd works through descriptors and never follows a link out.
            shutil.rmtree(entry.name, dir_fd=dir_fd)
        else:
            os.unlink(entry.name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("could not remove %s from a workspace", entry.path)


async def within_limit(
    workspace: Workspace, limit_mb: int, worker: Stoppable, call: Callable[[], Awaitable[T]]
) -> T:
    """The result of `call`, a skill call in `worker`, which has `workspace` mounted. A call that
    takes the workspace past `limit_mb` (or, when it was already past, makes it bigger still) is
    stopped, what it added is removed, and WorkspaceFullError says so; other failures pass through."""
    before = await asyncio.to_thread(workspace.scan)
    ceiling = max(limit_mb * MB, before.used_bytes)
    watcher = asyncio.create_task(_watch(workspace, ceiling, worker), name="workspace-watch")
    try:
        result = await call()
    except SandboxError as exc:
        await _enforce(workspace, ceiling, limit_mb, worker, before, exc)
        raise
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    await _enforce(workspace, ceiling, limit_mb, worker, before, None)
    return result


async def _watch(workspace: Workspace, ceiling: int, worker: Stoppable) -> None:
    while True:
        await asyncio.sleep(workspace.watch_interval_s)
        try:
            used = (await asyncio.to_thread(workspace.scan)).used_bytes
        except OSError:
            logger.exception("could not measure %s", workspace)
            return
        if used > ceiling:
            logger.warning("a skill call is filling %s past its limit: stopping it", workspace)
            await worker.stop()
            return


async def _enforce(
    workspace: Workspace,
    ceiling: int,
    limit_mb: int,
    worker: Stoppable,
    before: Snapshot,
    cause: Exception | None,
) -> None:
    after = await asyncio.to_thread(workspace.scan)
    if after.used_bytes <= ceiling:
        return
    # Stopped first: a process the call left running must not go on writing.
    await worker.stop()
    await asyncio.to_thread(workspace.undo, before, after)
    logger.warning(
        "a skill call took %s to %d MB; what it added was removed", workspace, after.used_bytes // MB
    )
    message = (
        f"this chat's workspace went past its limit of {limit_mb} MB; "
        "the call was stopped and what it added was removed"
    )
    raise WorkspaceFullError(message) from cause
