"""Paths as the Docker engine sees them, for a Hearth that itself runs in a container.

The engine resolves a bind mount's source on the host. When Hearth runs in a container, a
workspace it created at `/data/workspaces/x` lives on the host wherever `/data` is mounted from
(a named volume's `_data` directory or a bind-mounted folder), so the path is translated through
Hearth's own container's mounts before it is handed to the engine.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

logger = logging.getLogger(__name__)

CONTAINER_MARKER = Path("/.dockerenv")

PathMap = Callable[[Path], Path]


def host_path(path: Path, mounts: Sequence[Mapping[str, Any]]) -> Path:
    """`path` inside the container as the host sees it: the longest mount destination that contains
    it is replaced by that mount's source. A path under no mount is returned unchanged."""
    inner = PurePosixPath(path)
    best: tuple[PurePosixPath, str] | None = None
    for mount in mounts:
        destination = PurePosixPath(str(mount.get("Destination", "")))
        source = mount.get("Source")
        if not source or not inner.is_relative_to(destination):
            continue
        if best is None or len(destination.parts) > len(best[0].parts):
            best = (destination, str(source))
    if best is None:
        return path
    return Path(best[1]) / inner.relative_to(best[0])


def own_mounts(client: Any, marker: Path = CONTAINER_MARKER) -> list[dict[str, Any]] | None:
    """The mounts of the container this process runs in, or None when it runs on the host or its
    container cannot be found. Blocking."""
    import docker.errors

    if not marker.exists():
        return None
    # Docker names a container's host after its id unless told otherwise.
    try:
        attrs: dict[str, Any] = client.containers.get(socket.gethostname()).attrs
    except docker.errors.DockerException:
        logger.warning(
            "running in a container that Docker does not know by its host name; "
            "workspace paths are passed to the engine unchanged"
        )
        return None
    mounts: list[dict[str, Any]] = attrs.get("Mounts") or []
    return mounts


def path_map(client: Any, marker: Path = CONTAINER_MARKER) -> PathMap:
    """A function from this process's paths to the engine's. Blocking."""
    mounts = own_mounts(client, marker)
    if mounts is None:
        return lambda path: path
    return lambda path: host_path(path, mounts)
