"""Which engines share Hearth's disk, and so which workspaces HEARTH_SKILL_WORKSPACES=auto picks."""

from __future__ import annotations

import pytest

from assistant.sandbox.engine import describe, engine_is_remote, workspace_kind


@pytest.mark.parametrize(
    ("docker_host", "remote"),
    [
        (None, False),
        ("", False),
        ("unix:///var/run/docker.sock", False),
        ("npipe:////./pipe/docker_engine", False),
        ("tcp://127.0.0.1:2376", False),
        ("tcp://127.8.0.3:2376", False),
        ("tcp://localhost:2375", False),
        ("tcp://[::1]:2376", False),
        ("ssh://me@localhost", False),
        ("tcp://10.0.0.5:2376", True),
        ("tcp://docker:2376", True),
        ("https://engine.example.org:2376", True),
        ("ssh://me@gpu-box", True),
        ("192.168.1.20:2376", True),
    ],
)
def test_an_engine_is_remote_when_docker_host_names_another_machine(
    docker_host: str | None, remote: bool
) -> None:
    assert engine_is_remote(docker_host) is remote


@pytest.mark.parametrize(
    ("setting", "docker_host", "kind"),
    [
        ("auto", "", "bind"),
        ("auto", "tcp://10.0.0.5:2376", "volume"),
        ("bind", "tcp://10.0.0.5:2376", "bind"),
        ("volume", "", "volume"),
        ("volume", "tcp://127.0.0.1:2376", "volume"),
    ],
)
def test_the_setting_wins_over_the_rule(setting: str, docker_host: str, kind: str) -> None:
    assert workspace_kind(setting, {"DOCKER_HOST": docker_host}) == kind


def test_the_description_says_where_and_why() -> None:
    environ = {"DOCKER_HOST": "tcp://10.0.0.5:2376"}
    assert describe("volume", "auto", environ) == (
        "named Docker volumes on the engine, files copied through its API (the engine is tcp://10.0.0.5:2376)"
    )
    assert describe("bind", "bind", environ).endswith("(HEARTH_SKILL_WORKSPACES=bind)")
    assert "the local socket" in describe("bind", "auto", {})
