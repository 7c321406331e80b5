"""`hearth backup` and `hearth restore`: the database, the skill workspaces and the media kept per chat
in one tar.gz archive.

The database is copied with SQLite's online backup, so a backup taken while Hearth runs is
consistent. A restore needs Hearth stopped (it takes the data directory's lock) and keeps what it
replaces beside it, named `*.before-restore`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from assistant import __version__
from assistant.errors import HearthError
from assistant.ops.lock import hold
from assistant.sandbox.container import WORKER_UID
from assistant.settings import Settings

DATABASE = "hearth.db"
WORKSPACES = "workspaces"
MEDIA = "media"
MANIFEST = "backup.json"


class BackupError(HearthError):
    """A backup or restore could not be made; the message says why."""


def database_path(settings: Settings) -> Path:
    path = settings.sqlite_path
    if path is None:
        raise BackupError("backup copies SQLite databases only; use your database's own tool (pg_dump)")
    return path


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database, through its online backup API."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def write_archive(settings: Settings, out: IO[bytes]) -> None:
    """Write the archive (manifest, database, workspaces, media) as gzip-compressed tar to `out`."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / DATABASE
        copy_database(database_path(settings), copy)
        manifest = {"version": __version__, "created_at": datetime.now(UTC).isoformat()}
        with tarfile.open(fileobj=out, mode="w:gz") as archive:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(copy, DATABASE)
            for folder in (WORKSPACES, MEDIA):
                if (settings.data_dir / folder).is_dir():
                    archive.add(settings.data_dir / folder, folder)


def safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's members, refusing any that would land outside the data directory."""
    members = archive.getmembers()
    for member in members:
        path = PurePosixPath(member.name)
        inside = path.parts and path.parts[0] in {DATABASE, WORKSPACES, MEDIA, MANIFEST}
        if path.is_absolute() or ".." in path.parts or not inside:
            raise BackupError(f"the archive holds an unexpected entry {member.name!r}")
        if not (member.isfile() or member.isdir()):
            raise BackupError(f"the archive holds a link or device {member.name!r}")
    return members


def set_aside(path: Path, stamp: str) -> None:
    if path.exists():
        path.rename(path.with_name(f"{path.name}.before-restore-{stamp}"))


def open_workspaces(root: Path) -> None:
    """Give restored workspaces back to the skills' user; without root, open them to it."""
    for path in [root, *root.rglob("*")]:
        if os.getuid() == 0:
            os.chown(path, WORKER_UID, WORKER_UID)
        else:
            path.chmod(0o777 if path.is_dir() else 0o666)


def read_archive(settings: Settings, source: IO[bytes]) -> None:
    """Replace the database, workspaces and media with the archive's; Hearth must not be running."""
    database = database_path(settings)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with hold(settings.data_dir), tarfile.open(fileobj=source, mode="r:*") as archive:
        members = safe_members(archive)
        if DATABASE not in {m.name for m in members}:
            raise BackupError("the archive holds no database")
        with tempfile.TemporaryDirectory(dir=settings.data_dir) as scratch:
            for member in members:
                archive.extract(member, scratch, set_attrs=False)
            set_aside(database, stamp)
            # A write-ahead log left beside the restored file would be replayed into it.
            for suffix in ("-wal", "-shm"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
            shutil.move(Path(scratch) / DATABASE, database)
            restored = Path(scratch) / WORKSPACES
            if restored.is_dir():
                set_aside(settings.data_dir / WORKSPACES, stamp)
                shutil.move(restored, settings.data_dir / WORKSPACES)
                open_workspaces(settings.data_dir / WORKSPACES)
            if (Path(scratch) / MEDIA).is_dir():
                set_aside(settings.data_dir / MEDIA, stamp)
                shutil.move(Path(scratch) / MEDIA, settings.data_dir / MEDIA)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the archive (.tar.gz); - for standard output or input")


def backup(settings: Settings, args: argparse.Namespace) -> int:
    """Write a backup archive to a file, or to standard output for `-`."""
    if args.path == "-":
        write_archive(settings, sys.stdout.buffer)
        return 0
    target = Path(args.path)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
        write_archive(settings, out)
    Path(out.name).replace(target)
    print(f"backed up {settings.data_dir} to {target}", file=sys.stderr)
    return 0


def restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore an archive from a file, or from standard input for `-`."""
    if args.path == "-":
        # A pipe cannot seek, and reading an archive twice (check, then extract) needs to.
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
            spool.seek(0)
            read_archive(settings, spool)
    else:
        with Path(args.path).open("rb") as source:
            read_archive(settings, source)
    print(f"restored {settings.data_dir}; migrations run when Hearth starts", file=sys.stderr)
    return 0
