"""What a skill can leave in a workspace, through `hearth backup` and `hearth restore`: links, FIFOs,
sockets and files Hearth's user may not read are left out and counted, and every archive restores."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import socket
import sqlite3
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from assistant.ops.backup import copy_database
from assistant.sandbox.container import WORKER_UID
from tests.ops.test_backup import make_data, rows
from tests.process import hearth_env, run_hearth

# Hearth's user is not root: without these capabilities root reads only what its modes allow.
NO_DAC = "-dac_override,-dac_read_search"


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    """A real listening unix socket, bound under a short path (they are limited to 108 bytes)."""
    short = Path(tempfile.mkdtemp(prefix="hs"))
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(short / "s"))
        server.listen()
        yield short / "s"
    shutil.rmtree(short)


def unreadable(path: Path) -> None:
    """Make `path` a file Hearth's user cannot read, as a skill's 0600 file is to it."""
    path.write_text("secret the skill keeps to itself")
    if os.getuid() == 0:
        os.chown(path, WORKER_UID, WORKER_UID)
        path.chmod(0o600)
    else:
        path.chmod(0o000)


async def backup_as_hearth_user(target: Path, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`hearth backup TARGET` as Hearth's unprivileged user runs it (`docker compose exec -u hearth`)."""
    command: tuple[str, ...] = (sys.executable, "-m", "assistant", "backup", str(target))
    if os.getuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is needed to run the backup without root's power to read anything")
        command = ("setpriv", "--inh-caps", NO_DAC, "--bounding-set", NO_DAC, *command)
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def odd_workspace(chat: Path, secret: Path, unix_socket: Path) -> None:
    """Beside notes.json: a link to a secret outside, a hard link, a FIFO, a socket, a file Hearth's
    user may not read, and a folder."""
    secret.write_text("Hearth's own secret")
    (chat / "leak").symlink_to(secret)
    (chat / "twin.json").hardlink_to(chat / "notes.json")
    os.mkfifo(chat / "pipe")
    unix_socket.rename(chat / "sock")
    unreadable(chat / "private.bin")
    (chat / "deep").mkdir()
    (chat / "deep" / "kept.txt").write_text("deep")


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_odd_entries_are_left_out_counted_and_the_archive_restores(
    tmp_path: Path, unix_socket: Path
) -> None:
    settings = make_data(tmp_path / "data")
    odd_workspace(settings.data_dir / "workspaces" / "chat-1", tmp_path / "secret.txt", unix_socket)
    env = hearth_env(settings.data_dir, "http://127.0.0.1:9")

    code, err = await backup_as_hearth_user(tmp_path / "b.tar.gz", env, tmp_path)

    assert code == 0, err
    assert "4 entries left out (1 FIFO, 1 socket, 1 symbolic link, 1 unreadable file)" in err
    assert "workspaces/chat-1/pipe" in err
    with tarfile.open(tmp_path / "b.tar.gz") as archive:
        manifest = json.loads(archive.extractfile("backup.json").read())  # type: ignore[union-attr]
        names = set(archive.getnames())
    assert {e["path"] for e in manifest["left_out"]} >= {"workspaces/chat-1/leak", "workspaces/chat-1/sock"}
    assert "workspaces/chat-1/deep/kept.txt" in names

    shutil.rmtree(settings.data_dir / "workspaces")
    code, _, err = await run_hearth("restore", str(tmp_path / "b.tar.gz"), env=env, cwd=tmp_path)

    assert code == 0, err
    restored = settings.data_dir / "workspaces" / "chat-1"
    assert names_in(restored) == ["deep", "notes.json", "twin.json"]
    # The hard link comes back as a copy of its own; the link never pulled the secret in.
    assert (restored / "twin.json").read_text() == '["milk"]'
    assert not (restored / "twin.json").samefile(restored / "notes.json")
    assert (restored / "deep" / "kept.txt").read_text() == "deep"


async def test_an_archive_holding_a_link_still_restores(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        copy_database(settings.data_dir / "hearth.db", tmp_path / "copy.db")
        tar.add(tmp_path / "copy.db", "hearth.db")
        link = tarfile.TarInfo("workspaces/chat-1/leak")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
        fifo = tarfile.TarInfo("workspaces/chat-1/pipe")
        fifo.type = tarfile.FIFOTYPE
        tar.addfile(fifo)
    (tmp_path / "old.tar.gz").write_bytes(archive.getvalue())
    env = hearth_env(settings.data_dir, "http://127.0.0.1:9")

    code, _, err = await run_hearth("restore", str(tmp_path / "old.tar.gz"), env=env, cwd=tmp_path)

    assert code == 0, err
    assert "2 entries left out (2 link or device), not restored" in err
    assert rows(settings.data_dir / "hearth.db") == ["before"]
    assert not (settings.data_dir / "workspaces" / "chat-1" / "leak").is_symlink()


async def test_a_backup_that_would_not_restore_fails_and_leaves_no_file(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    database = settings.data_dir / "hearth.db"
    with closing(sqlite3.connect(database)) as db:
        db.execute("CREATE TABLE filler (text TEXT)")
        db.executemany("INSERT INTO filler VALUES (?)", [("x" * 200,)] * 200)
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # Damage a b-tree page: SQLite's online backup copies pages as they are.
    with database.open("r+b") as handle:
        handle.seek(3 * 4096 + 100)
        handle.write(b"\xff" * 400)
    env = hearth_env(settings.data_dir, "http://127.0.0.1:9")

    code, _, err = await run_hearth("backup", str(tmp_path / "b.tar.gz"), env=env, cwd=tmp_path)

    assert code != 0
    assert "database is damaged" in err or "cannot be read" in err, err
    assert names_in(tmp_path) == ["data"]
