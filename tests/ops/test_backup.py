"""`hearth backup` / `hearth restore`: a round trip of the database, workspaces and media, and refusals."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import sys
import tarfile
from pathlib import Path

import pytest

from assistant.ops.backup import BackupError, read_archive, write_archive
from assistant.ops.lock import AlreadyRunning, hold
from assistant.settings import Settings
from tests.process import hearth_env, run_hearth


def make_data(data_dir: Path) -> Settings:
    """A data directory with a WAL-mode database holding one row, and one workspace file."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data_dir / "hearth.db") as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('before')")
    (data_dir / "workspaces" / "chat-1").mkdir(parents=True)
    (data_dir / "workspaces" / "chat-1" / "notes.json").write_text('["milk"]')
    (data_dir / "media" / "chat-1").mkdir(parents=True)
    (data_dir / "media" / "chat-1" / "photo.jpg").write_bytes(b"\xff\xd8\xff photo")
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'hearth.db'}")


def rows(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT text FROM notes")]


def test_round_trip_brings_back_database_and_workspaces(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    # An open writer keeps the change in the write-ahead log: the backup must still see it.
    writer = sqlite3.connect(settings.data_dir / "hearth.db")
    writer.execute("INSERT INTO notes VALUES ('in the log')")
    writer.commit()
    archive = io.BytesIO()
    write_archive(settings, archive)
    writer.close()

    with sqlite3.connect(settings.data_dir / "hearth.db") as db:
        db.execute("DELETE FROM notes")
    (settings.data_dir / "workspaces" / "chat-1" / "notes.json").write_text("[]")
    (settings.data_dir / "media" / "chat-1" / "photo.jpg").unlink()
    read_archive(settings, io.BytesIO(archive.getvalue()))

    assert rows(settings.data_dir / "hearth.db") == ["before", "in the log"]
    assert (settings.data_dir / "workspaces" / "chat-1" / "notes.json").read_text() == '["milk"]'
    assert (settings.data_dir / "media" / "chat-1" / "photo.jpg").read_bytes() == b"\xff\xd8\xff photo"
    kept = sorted({p.name.split(".before-restore")[0] for p in settings.data_dir.glob("*.before-restore-*")})
    assert kept == ["hearth.db", "media", "workspaces"]


def test_restore_refuses_while_hearth_runs(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    archive = io.BytesIO()
    write_archive(settings, archive)
    with hold(settings.data_dir), pytest.raises(AlreadyRunning):
        read_archive(settings, io.BytesIO(archive.getvalue()))


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "other/file", "workspaces/../../x"])
def test_restore_refuses_entries_outside_the_data_dir(tmp_path: Path, name: str) -> None:
    settings = make_data(tmp_path / "data")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(BackupError, match="unexpected entry"):
        read_archive(settings, io.BytesIO(archive.getvalue()))
    assert rows(settings.data_dir / "hearth.db") == ["before"]


def test_backup_needs_sqlite(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://db/hearth")
    with pytest.raises(BackupError, match="pg_dump"):
        write_archive(settings, io.BytesIO())


async def test_backup_and_restore_commands(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    env = hearth_env(settings.data_dir, "http://127.0.0.1:9")
    code, _, err = await run_hearth("backup", str(tmp_path / "b.tar.gz"), env=env, cwd=tmp_path)
    assert code == 0, err
    with sqlite3.connect(settings.data_dir / "hearth.db") as db:
        db.execute("INSERT INTO notes VALUES ('after')")
    code, _, err = await run_hearth("restore", str(tmp_path / "b.tar.gz"), env=env, cwd=tmp_path)
    assert code == 0, err
    assert "migrations run when Hearth starts" in err
    assert rows(settings.data_dir / "hearth.db") == ["before"]


async def test_backup_says_workspace_volumes_are_not_in_it(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    env = hearth_env(settings.data_dir, "http://127.0.0.1:9", HEARTH_SKILL_WORKSPACES="volume")
    code, _, err = await run_hearth("backup", str(tmp_path / "b.tar.gz"), env=env, cwd=tmp_path)
    assert code == 0, err
    assert "the skill workspaces are Docker volumes on the engine" in err


async def test_backup_and_restore_through_pipes(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    env = hearth_env(settings.data_dir, "http://127.0.0.1:9")
    backup = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "assistant",
        "backup",
        "-",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
    )
    archive, _ = await backup.communicate()
    assert backup.returncode == 0
    (settings.data_dir / "workspaces" / "chat-1" / "notes.json").unlink()
    # A pipe, not a file: restore must not need to seek its input.
    restore = await asyncio.create_subprocess_shell(
        f"cat | {sys.executable} -m assistant restore -", env=env, cwd=tmp_path, stdin=asyncio.subprocess.PIPE
    )
    await restore.communicate(archive)
    assert restore.returncode == 0
    assert (settings.data_dir / "workspaces" / "chat-1" / "notes.json").read_text() == '["milk"]'


# Commits rows with automatic checkpoints off, then dies without closing: the rows live only in
# the write-ahead log, as after a power cut or a killed Hearth.
UNCLEAN_STOP = """
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_autocheckpoint=0")
db.executemany("INSERT INTO notes VALUES (?)", [("committed %d" % i,) for i in range(50)])
db.commit()
os._exit(0)
"""


async def test_restore_keeps_the_rows_in_the_replaced_databases_log(tmp_path: Path) -> None:
    settings = make_data(tmp_path / "data")
    database = settings.data_dir / "hearth.db"
    env = hearth_env(settings.data_dir, "http://127.0.0.1:9")
    code, _, err = await run_hearth("backup", str(tmp_path / "b.tar.gz"), env=env, cwd=tmp_path)
    assert code == 0, err
    writer = await asyncio.create_subprocess_exec(sys.executable, "-c", UNCLEAN_STOP, str(database))
    assert await writer.wait() == 0
    assert (database.with_name("hearth.db-wal")).stat().st_size > 0

    code, _, err = await run_hearth("restore", str(tmp_path / "b.tar.gz"), env=env, cwd=tmp_path)

    assert code == 0, err
    [kept] = settings.data_dir.glob("hearth.db.before-restore-*[0-9]Z")
    # Copied alone, the kept file must still hold every committed row.
    alone = tmp_path / "kept-alone.db"
    alone.write_bytes(kept.read_bytes())
    assert rows(alone) == ["before"] + [f"committed {i}" for i in range(50)]
    assert rows(database) == ["before"]
