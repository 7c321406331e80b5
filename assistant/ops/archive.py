"""What a backup archive may hold, and checking one: regular files and folders only, nothing outside
the data directory's own names, and a database SQLite can open.

Skills write the workspaces, so a workspace can hold anything a program can make: links, FIFOs,
sockets, files only their owner may read. Such entries are left out and counted, never followed,
so a backup always finishes and every archive restores.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from assistant.errors import HearthError
from assistant.sandbox.tree import Entry, open_file, visit

DATABASE = "hearth.db"
WORKSPACES = "workspaces"
MEDIA = "media"
MANIFEST = "backup.json"
TOP_NAMES = frozenset({DATABASE, WORKSPACES, MEDIA, MANIFEST})
SPOOL_BYTES = 1024 * 1024
CHUNK_BYTES = 1024 * 1024
LISTED_MAX = 10


class BackupError(HearthError):
    """A backup or restore could not be made; the message says why."""


@dataclass
class LeftOut:
    """Entries a backup or restore did not carry, each as (kind, path in the archive)."""

    entries: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, path: str) -> None:
        self.entries.append((kind, path))

    def summary(self) -> str:
        """`3 entries left out (1 FIFO, 1 socket, 1 symbolic link)`, or "" when none were."""
        if not self.entries:
            return ""
        counts = Counter(kind for kind, _ in self.entries)
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        noun = "entry" if len(self.entries) == 1 else "entries"
        return f"{len(self.entries)} {noun} left out ({kinds})"

    def lines(self) -> list[str]:
        """The summary, then the first few entries, one per line."""
        if not self.entries:
            return []
        shown = [f"  {kind}: {path}" for kind, path in self.entries[:LISTED_MAX]]
        more = len(self.entries) - LISTED_MAX
        return [self.summary(), *shown, *([f"  … and {more} more"] if more > 0 else [])]


def _folder(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info


def add_tree(archive: tarfile.TarFile, root: Path, arcname: str, left_out: LeftOut) -> None:
    """Add the folders and regular files under `root` as `arcname/…`; anything else, and files that
    may not be read, go into `left_out`. A file with several names (a hard link) is stored under
    each. Links are never followed."""
    archive.addfile(_folder(arcname))

    def add(entry: Entry, dir_fd: int) -> bool:
        name = f"{arcname}/{entry.path}"
        if entry.kind == "folder":
            archive.addfile(_folder(name))
            return True
        if entry.kind == "file":
            _add_file(archive, entry, dir_fd, name, left_out)
        else:
            left_out.add(entry.kind, name)
        return False

    visit(root, add)


def _add_file(archive: tarfile.TarFile, entry: Entry, dir_fd: int, name: str, left_out: LeftOut) -> None:
    try:
        fd = open_file(entry, dir_fd)
    except OSError:
        left_out.add("unreadable file", name)
        return
    if fd is None:
        return  # replaced or removed while the backup ran: it is not there to keep
    # Copied first, so a file that grows or shrinks while it is read still matches its header.
    with os.fdopen(fd, "rb") as source, tempfile.SpooledTemporaryFile(SPOOL_BYTES) as copy:
        mtime = os.fstat(source.fileno()).st_mtime
        shutil.copyfileobj(source, copy, CHUNK_BYTES)
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = copy.tell(), int(mtime), 0o644
        copy.seek(0)
        archive.addfile(info, copy)


def members(archive: tarfile.TarFile) -> tuple[list[tarfile.TarInfo], LeftOut]:
    """The archive's folders and regular files, and what else it holds (links, devices: left out).
    BackupError for any entry that would land outside the data directory."""
    kept: list[tarfile.TarInfo] = []
    left_out = LeftOut()
    for member in archive.getmembers():
        path = PurePosixPath(member.name)
        inside = bool(path.parts) and path.parts[0] in TOP_NAMES
        if path.is_absolute() or ".." in path.parts or not inside:
            raise BackupError(f"the archive holds an unexpected entry {member.name!r}")
        if member.isfile() or member.isdir():
            kept.append(member)
        else:
            left_out.add("link or device", member.name)
    if DATABASE not in {m.name for m in kept if m.isfile()}:
        raise BackupError("the archive holds no database")
    return kept, left_out


def check_database(path: Path) -> None:
    """BackupError unless `path` is an SQLite database that passes its quick check."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the archive's database cannot be read: {exc}") from None
    if verdict is None or verdict[0] != "ok":
        raise BackupError(f"the archive's database is damaged: {verdict[0] if verdict else 'no answer'}")


def verify(source: IO[bytes]) -> int:
    """Read a whole archive as a restore would (every byte, so gzip checks its sums) and check its
    database; the number of files in it. BackupError when it would not restore."""
    try:
        with tarfile.open(fileobj=source, mode="r:*") as archive, tempfile.TemporaryDirectory() as scratch:
            kept, _ = members(archive)
            for member in kept:
                _read_through(archive, member)
            archive.extract(archive.getmember(DATABASE), scratch, set_attrs=False)
            check_database(Path(scratch) / DATABASE)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"the archive cannot be read back: {exc}") from None
    return sum(1 for m in kept if m.isfile())


def _read_through(archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    stream = archive.extractfile(member)
    if stream is None:
        return
    with stream:
        while stream.read(CHUNK_BYTES):
            pass
