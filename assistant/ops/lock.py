"""One Hearth process per data directory on SQLite: two routers on one inbox would answer twice.
(On PostgreSQL, replicas coordinate in the database instead; see assistant.replicas.)"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import HearthError


class AlreadyRunning(HearthError):
    """Another Hearth process holds the data directory."""


@contextmanager
def hold(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's lock for the life of the block; AlreadyRunning when taken."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "hearth.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            raise AlreadyRunning(
                f"Hearth is already running on {data_dir} (pid {owner}); stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


@contextmanager
def shared() -> Iterator[None]:
    """No lock: for replicas on PostgreSQL, which may share a data directory."""
    yield
