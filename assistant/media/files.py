"""Media on disk: one directory per chat under the data directory's `media/`, written atomically."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

DIRECTORY = "media"


class MediaDir:
    """Where media files live; every path handed out is relative to `root` and stays inside it."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / DIRECTORY

    def save(self, chat_id: int, data: bytes, suffix: str) -> str:
        """Write `data` as a new file of chat `chat_id`; return its relative path. Blocking."""
        folder = self.root / f"chat-{chat_id}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{secrets.token_hex(8)}{suffix}"
        handle, scratch = tempfile.mkstemp(dir=folder, prefix=".part-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(scratch, folder / name)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise
        return f"chat-{chat_id}/{name}"

    def path(self, relative: str) -> Path:
        """The absolute path of a stored file; ValueError for a path that leaves the directory."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"{relative!r} is not inside the media directory")
        return path

    def read(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()

    def remove(self, relative: str) -> None:
        self.path(relative).unlink(missing_ok=True)
