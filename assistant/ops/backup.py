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
import logging
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from assistant import __version__
from assistant.ops.archive import (
    DATABASE,
    MANIFEST,
    MEDIA,
    WORKSPACES,
    BackupError,
    LeftOut,
    add_tree,
    check_database,
    members,
    verify,
)
from assistant.ops.lock import hold
from assistant.sandbox.container import WORKER_UID
from assistant.sandbox.engine import workspace_kind
from assistant.settings import Settings

__all__ = ["BackupError", "backup", "read_archive", "restore", "write_archive"]

logger = logging.getLogger(__name__)

SIDECARS = ("-wal", "-shm")
VOLUMES_NOTE = (
    "the skill workspaces are Docker volumes on the engine (HEARTH_SKILL_WORKSPACES): they are not in "
    "this archive; back them up on the engine (volumes labelled org.hearth.role=workspace)"
)


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


def write_archive(settings: Settings, out: IO[bytes]) -> LeftOut:
    """Write the archive (database, workspaces, media, then the manifest) as gzip-compressed tar to
    `out`; what was left out is returned and listed in the manifest."""
    left_out = LeftOut()
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / DATABASE
        copy_database(database_path(settings), copy)
        with tarfile.open(fileobj=out, mode="w:gz") as archive:
            archive.add(copy, DATABASE)
            for folder in (WORKSPACES, MEDIA):
                if (settings.data_dir / folder).is_dir():
                    add_tree(archive, settings.data_dir / folder, folder, left_out)
            manifest = {
                "version": __version__,
                "created_at": datetime.now(UTC).isoformat(),
                "left_out": [{"kind": kind, "path": path} for kind, path in left_out.entries],
            }
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return left_out


def set_aside(path: Path, stamp: str) -> None:
    if path.exists():
        path.rename(path.with_name(f"{path.name}.before-restore-{stamp}"))


def set_aside_database(database: Path, stamp: str) -> None:
    """Keep the replaced database as `hearth.db.before-restore-STAMP`, with its write-ahead log and
    index under the matching names: after an unclean stop, committed rows may live only in the log.
    The kept copy is then folded into one file, when SQLite can."""
    if not database.exists():
        return
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    for suffix in SIDECARS:
        sidecar = database.with_name(database.name + suffix)
        if sidecar.exists():
            sidecar.rename(kept.with_name(kept.name + suffix))
    database.rename(kept)
    try:
        with closing(sqlite3.connect(kept)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        logger.warning("could not fold the log into %s; its -wal file is kept beside it", kept)


def open_workspaces(root: Path) -> None:
    """Give restored workspaces back to the skills' user; without root, open them to it."""
    for path in [root, *root.rglob("*")]:
        if os.getuid() == 0:
            os.chown(path, WORKER_UID, WORKER_UID)
        else:
            path.chmod(0o777 if path.is_dir() else 0o666)


def read_archive(settings: Settings, source: IO[bytes]) -> LeftOut:
    """Replace the database, workspaces and media with the archive's; Hearth must not be running.
    Nothing is replaced unless the whole archive extracts and its database passes SQLite's check;
    links and devices in the archive are left out and returned."""
    database = database_path(settings)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with hold(settings.data_dir), tarfile.open(fileobj=source, mode="r:*") as archive:
        kept, left_out = members(archive)
        with tempfile.TemporaryDirectory(dir=settings.data_dir) as scratch:
            for member in kept:
                archive.extract(member, scratch, set_attrs=False)
            check_database(Path(scratch) / DATABASE)
            set_aside_database(database, stamp)
            shutil.move(Path(scratch) / DATABASE, database)
            restored = Path(scratch) / WORKSPACES
            if restored.is_dir():
                set_aside(settings.data_dir / WORKSPACES, stamp)
                shutil.move(restored, settings.data_dir / WORKSPACES)
                open_workspaces(settings.data_dir / WORKSPACES)
            if (Path(scratch) / MEDIA).is_dir():
                set_aside(settings.data_dir / MEDIA, stamp)
                shutil.move(Path(scratch) / MEDIA, settings.data_dir / MEDIA)
    return left_out


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the archive (.tar.gz); - for standard output or input")


def backup(settings: Settings, args: argparse.Namespace) -> int:
    """Write a backup archive to a file, or to standard output for `-`. The archive is read back and
    checked before the command succeeds; a file target appears only then, whole."""
    target = None if args.path == "-" else Path(args.path)
    directory = None if target is None else target.parent
    with tempfile.NamedTemporaryFile(dir=directory, delete=target is None) as out:
        try:
            left_out = write_archive(settings, out)
            out.flush()
            out.seek(0)
            files = verify(out)
            if target is None:
                out.seek(0)
                shutil.copyfileobj(out, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            else:
                os.fsync(out.fileno())
                Path(out.name).replace(target)
        except BaseException:
            if target is not None:
                Path(out.name).unlink(missing_ok=True)
            raise
    print(f"backed up {settings.data_dir} to {target or 'standard output'}: {files} files", file=sys.stderr)
    _report(left_out, "not in the archive (listed in its backup.json)")
    if workspace_kind(settings.skill_workspaces, os.environ) == "volume":
        print(VOLUMES_NOTE, file=sys.stderr)
    return 0


def _report(left_out: LeftOut, where: str) -> None:
    lines = left_out.lines()
    if lines:
        print(f"{lines[0]}, {where}:", *lines[1:], sep="\n", file=sys.stderr)


def restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore an archive from a file, or from standard input for `-`."""
    if args.path == "-":
        # A pipe cannot seek, and reading an archive twice (check, then extract) needs to.
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
            spool.seek(0)
            left_out = read_archive(settings, spool)
    else:
        with Path(args.path).open("rb") as source:
            left_out = read_archive(settings, source)
    print(f"restored {settings.data_dir}; migrations run when Hearth starts", file=sys.stderr)
    _report(left_out, "not restored")
    return 0
