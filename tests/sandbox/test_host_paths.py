"""Translating workspace paths to the host's when Hearth runs in a container."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.sandbox.host_paths import host_path, path_map

VOLUME = "/var/lib/docker/volumes/hearth_hearth-data/_data"
MOUNTS = [
    {"Type": "volume", "Source": VOLUME, "Destination": "/data"},
    {"Type": "bind", "Source": "/srv/hearth-ws", "Destination": "/data/workspaces"},
    {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"},
    {"Type": "tmpfs", "Destination": "/tmp"},
]


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        ("/data/hearth.db", f"{VOLUME}/hearth.db"),
        ("/data", VOLUME),
        ("/data/workspaces/chat-1", "/srv/hearth-ws/chat-1"),
        ("/database/x", "/database/x"),
        ("/tmp/x", "/tmp/x"),
        ("/opt/hearth", "/opt/hearth"),
    ],
)
def test_host_path_takes_the_longest_mount(inside: str, outside: str) -> None:
    assert host_path(Path(inside), MOUNTS) == Path(outside)


def test_on_the_host_paths_are_unchanged(tmp_path: Path) -> None:
    to_host = path_map(client=None, marker=tmp_path / "no-dockerenv")
    assert to_host(Path("/data/workspaces/x")) == Path("/data/workspaces/x")
