"""The container entrypoint's pure parts: which socket, which groups, which paths change owner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.ops.entrypoint import HEARTH_GID, HEARTH_UID, docker_socket, groups_for, owned_wrongly


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "/var/run/docker.sock"),
        ({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, "/run/user/1000/docker.sock"),
        ({"DOCKER_HOST": "tcp://proxy:2375"}, "/var/run/docker.sock"),
    ],
)
def test_docker_socket(environ: dict[str, str], expected: str) -> None:
    assert docker_socket(environ) == Path(expected)


@pytest.mark.parametrize(
    ("socket_gid", "expected"),
    [(None, [HEARTH_GID]), (999, [HEARTH_GID, 999]), (0, [HEARTH_GID, 0]), (HEARTH_GID, [HEARTH_GID])],
)
def test_groups_for(socket_gid: int | None, expected: list[int]) -> None:
    assert groups_for(socket_gid) == expected


def test_owned_wrongly_skips_inside_workspaces(tmp_path: Path) -> None:
    if os.getuid() == HEARTH_UID:
        pytest.skip("the tests run as Hearth's own uid")
    (tmp_path / "workspaces" / "chat").mkdir(parents=True)
    (tmp_path / "workspaces" / "chat" / "notes.json").write_text("[]")
    (tmp_path / "hearth.db").write_text("")
    found = {p.relative_to(tmp_path).as_posix() for p in owned_wrongly(tmp_path)} - {"."}
    assert found == {"hearth.db", "workspaces"}
