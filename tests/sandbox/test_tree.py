"""Measuring and undoing a workspace on real files: links are never followed out of it."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.sandbox.quota import ENTRY_MIN_BYTES, scan, undo


def test_every_entry_counts_at_least_a_block(tmp_path: Path) -> None:
    for n in range(10):
        (tmp_path / f"empty-{n}").touch()
    (tmp_path / "folder").mkdir()
    (tmp_path / "big").write_bytes(b"x" * 100_000)

    assert scan(tmp_path).used_bytes >= 11 * ENTRY_MIN_BYTES + 100_000


def test_undo_removes_what_is_new_and_cuts_what_grew(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "workspace", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (outside / "precious").write_text("Hearth's own")
    (workspace / "old.txt").write_text("old")
    (workspace / "log").write_text("line 1\n")
    (workspace / "kept").mkdir()
    (workspace / "replaced.json").write_text("{}")
    before = scan(workspace)

    with (workspace / "log").open("a") as log:
        log.write("line 2\n" * 1000)
    (workspace / "kept" / "new.bin").write_bytes(b"x" * 5000)
    (workspace / "new" / "deeper").mkdir(parents=True)
    (workspace / "new" / "deeper" / "file").write_text("new")
    (workspace / "new" / "escape").symlink_to(outside, target_is_directory=True)
    (workspace / "escape").symlink_to(outside, target_is_directory=True)
    os.mkfifo(workspace / "pipe")
    (workspace / "replacement").write_text('{"a": 1}')
    (workspace / "replacement").replace(workspace / "replaced.json")

    undo(workspace, before)

    assert sorted(str(p.relative_to(workspace)) for p in workspace.rglob("*")) == ["kept", "log", "old.txt"]
    assert (workspace / "log").read_text() == "line 1\n"
    assert (outside / "precious").read_text() == "Hearth's own"
    assert scan(workspace).used_bytes <= before.used_bytes
