"""The container's entrypoint: as root, give the data directory to Hearth's user, then drop to it.

A fresh volume or bind mount belongs to root, and a volume from an older image may belong to another
uid; fixing ownership at every start means neither ever fails with a permission error. The Docker
socket's group is added to the user's groups, whatever number it has on this host, so only this
process (not root, not the skill containers) can reach the engine.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

HEARTH_UID = 10000
HEARTH_GID = 10000
# Skill containers write there as their own user; their files must keep their owner.
WORKSPACES = "workspaces"


def docker_socket(environ: dict[str, str]) -> Path:
    """The engine's socket as DOCKER_HOST names it, or the usual path."""
    host = environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return Path(host.removeprefix("unix://"))
    return Path("/var/run/docker.sock")


def groups_for(socket_gid: int | None) -> list[int]:
    """Hearth's supplementary groups: its own, and the socket's when there is one."""
    groups = [HEARTH_GID]
    if socket_gid is not None and socket_gid != HEARTH_GID:
        groups.append(socket_gid)
    return groups


def owned_wrongly(data_dir: Path) -> Iterator[Path]:
    """Every path under `data_dir` (itself included) not owned by Hearth's user, except inside
    workspaces, whose files belong to the skills' user."""
    if data_dir.stat().st_uid != HEARTH_UID:
        yield data_dir
    for root, dirs, files in os.walk(data_dir):
        here = Path(root)
        if here == data_dir and WORKSPACES in dirs:
            dirs.remove(WORKSPACES)
            yield from _if_foreign(here / WORKSPACES)
        for name in dirs + files:
            yield from _if_foreign(here / name)


def _if_foreign(path: Path) -> Iterator[Path]:
    info = path.lstat()
    if info.st_uid != HEARTH_UID and not stat.S_ISLNK(info.st_mode):
        yield path


def fix_ownership(data_dir: Path) -> int:
    """Give everything under `data_dir` to Hearth's user; how many paths changed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    changed = 0
    for path in owned_wrongly(data_dir):
        os.chown(path, HEARTH_UID, HEARTH_GID)
        changed += 1
    return changed


def socket_gid(path: Path) -> int | None:
    try:
        return path.stat().st_gid
    except FileNotFoundError:
        return None


def drop_privileges(socket: Path) -> None:
    os.setgroups(groups_for(socket_gid(socket)))
    os.setgid(HEARTH_GID)
    os.setuid(HEARTH_UID)


def main(argv: list[str] | None = None) -> None:
    """Fix ownership and drop privileges when started as root, then become `hearth ARGS`."""
    args = sys.argv[1:] if argv is None else argv
    if os.getuid() == 0:
        data_dir = Path(os.environ.get("HEARTH_DATA_DIR", "/data"))
        changed = fix_ownership(data_dir)
        if changed:
            print(f"entrypoint: gave {changed} paths under {data_dir} to uid {HEARTH_UID}", flush=True)
        drop_privileges(docker_socket(dict(os.environ)))
    os.environ["HOME"] = os.environ.get("HEARTH_DATA_DIR", "/data")
    # Replaced, not wrapped: signals from `docker stop` reach Hearth itself.
    os.execv(sys.executable, [sys.executable, "-m", "assistant", *args])  # noqa: S606


if __name__ == "__main__":
    main()
