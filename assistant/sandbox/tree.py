"""Walking a folder that untrusted code writes to, without ever following a link out of it.

A skill controls its workspace and may swap a folder for a symbolic link while Hearth walks it, so
every step goes through a descriptor of the folder above it (`dir_fd`), opens with O_NOFOLLOW,
and checks that what it opened is what it listed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# O_NONBLOCK: opening a FIFO that a skill swapped in for a file must not wait for a writer.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
DIR_FLAGS = READ_FLAGS | os.O_DIRECTORY

KINDS = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "folder",
    stat.S_IFLNK: "symbolic link",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "device",
    stat.S_IFBLK: "device",
}


@dataclass(frozen=True)
class Entry:
    """One name under the walked folder, as lstat saw it. `kind` is "file", "folder", "symbolic link",
    "FIFO", "socket", "device", or "unreadable folder" for one Hearth may not look into."""

    path: PurePosixPath
    kind: str
    inode: int
    size: int
    blocks: int

    @property
    def name(self) -> str:
        return self.path.name


# Called for every entry with the descriptor of its folder (valid only during the call); for a
# folder, True means go into it.
Visitor = Callable[[Entry, int], bool]


def entry_of(path: PurePosixPath, st: os.stat_result) -> Entry:
    kind = KINDS.get(stat.S_IFMT(st.st_mode), "device")
    return Entry(path, kind, st.st_ino, st.st_size, st.st_blocks)


def visit(root: Path, visitor: Visitor) -> None:
    """Call `visitor` for each entry under `root` (not `root` itself), parents before children. A
    folder that cannot be opened is reported as "unreadable folder" and not entered. `root` must
    exist; OSError when it cannot be opened."""
    fd = os.open(root, DIR_FLAGS)
    try:
        _visit(fd, PurePosixPath(), visitor)
    finally:
        os.close(fd)


def _visit(dir_fd: int, parent: PurePosixPath, visitor: Visitor) -> None:
    with os.scandir(dir_fd) as listing:
        names = sorted(item.name for item in listing)
    for name in names:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # gone since the listing
        entry = entry_of(parent / name, st)
        if visitor(entry, dir_fd) and entry.kind == "folder":
            _enter(dir_fd, entry, st, visitor)


def _enter(dir_fd: int, entry: Entry, listed: os.stat_result, visitor: Visitor) -> None:
    try:
        fd = os.open(entry.name, DIR_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    except OSError:
        visitor(Entry(entry.path, "unreadable folder", entry.inode, 0, 0), dir_fd)
        return
    try:
        if os.path.samestat(listed, os.fstat(fd)):
            _visit(fd, entry.path, visitor)
    finally:
        os.close(fd)


def open_file(entry: Entry, dir_fd: int) -> int | None:
    """A read descriptor for the regular file `entry` names, or None when it is no longer that file
    (swapped, gone). OSError (such as PermissionError) when it may not be read."""
    try:
        fd = os.open(entry.name, READ_FLAGS, dir_fd=dir_fd)
    except PermissionError:
        raise
    except OSError:
        return None  # gone, or swapped for a link (ELOOP)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_ino != entry.inode:
        os.close(fd)
        return None
    return fd
