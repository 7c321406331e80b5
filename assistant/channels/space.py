"""Refusing new messages while the data volume is almost full (below HEARTH_MIN_FREE_MB).

A webhook answered 503 is delivered again by its provider later, and an API client can retry; a
message accepted onto a full disk could be stored without its turn, its reply or its media. So
below the floor nothing new is stored: the owner is told once, and as soon as space is back
messages are taken again, with nothing to restart.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

logger = logging.getLogger(__name__)

MB = 1024 * 1024
RETRY_AFTER_S = 60
REFUSED = "Hearth's disk is almost full; try again later."
LOW_NOTICE = (
    "The disk that holds my data is almost full ({free_mb} MB free), so I am not taking new messages. "
    "Free some space and I will carry on by myself."
)

FreeBytes = Callable[[Path], int]


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the filesystem holding `path`."""
    while True:
        try:
            st = os.statvfs(path)
        except FileNotFoundError:
            if path == path.parent:
                raise
            path = path.parent  # the data directory is made at start; until then, its parent's volume
            continue
        return st.f_bavail * st.f_frsize


class SpaceGuard:
    """Whether there is room to take messages. Each check reads the free space afresh (one statvfs
    call, microseconds), so there is nothing to poll and recovery is immediate. The owner gets one
    notice, through `tell`, each time space runs low; `min_free_mb` 0 turns the guard off."""

    def __init__(self, path: Path, min_free_mb: int, probe: FreeBytes = free_bytes) -> None:
        self.path, self.min_free_bytes, self._probe = path, min_free_mb * MB, probe
        # How to reach the owner; set once the access gate exists (until then, the log only).
        self.tell: Callable[[str, str], Awaitable[None]] | None = None
        self.low = False

    async def refuse(self) -> bool:
        """True when free space is below the floor; the first such answer tells the owner."""
        if self.min_free_bytes == 0:
            return False
        free = self._probe(self.path)
        if free >= self.min_free_bytes:
            if self.low:
                logger.warning(
                    "free space on %s is back (%d MB); taking messages again", self.path, free // MB
                )
                self.low = False
            return False
        if not self.low:
            self.low = True
            logger.error("only %d MB free on %s: refusing new messages", free // MB, self.path)
            await self._tell_owner(free)
        return True

    async def _tell_owner(self, free: int) -> None:
        if self.tell is None:
            return
        try:
            await self.tell(LOW_NOTICE.format(free_mb=free // MB), "a full disk")
        except Exception:
            # The notice is a courtesy; the refusal must stand even when it cannot be written.
            logger.exception("could not tell the owner that the disk is almost full")


SPACE = web.AppKey("space_guard", SpaceGuard)


async def refused(app: web.Application) -> bool:
    """Whether the app's guard refuses new messages now (False in an app without one)."""
    guard = app.get(SPACE)
    return guard is not None and await guard.refuse()
