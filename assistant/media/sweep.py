"""Letting media go: files and their rows older than the keep period, and files no row names."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path

from assistant.media.files import MediaDir
from assistant.store import Store
from assistant.store import media as stored


def _stale_files(root: Path, before: datetime) -> list[Path]:
    """Files in the chats' folders last written before `before` (left behind by a crash, say)."""
    if not root.is_dir():
        return []
    cutoff = before.timestamp()
    return [p for p in root.glob("chat-*/*") if p.is_file() and p.stat().st_mtime < cutoff]


async def sweep(store: Store, folder: MediaDir, before: datetime) -> int:
    """Remove every media file older than `before`, on disk and in the store; how many went."""
    rows = await stored.older_than(store, before)
    for row in rows:
        await asyncio.to_thread(folder.remove, row.path)
    await stored.remove(store, [row.id for row in rows if row.id is not None])
    stale = await asyncio.to_thread(_stale_files, folder.root, before)
    for path in stale:
        await asyncio.to_thread(os.remove, path)
    return len(rows) + len(stale)
