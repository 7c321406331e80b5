"""Every container is locked down except for what its manifest grants."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.sandbox.container import container_options, workspace_dir_name
from assistant.sandbox.manifest import Limits, Permissions, SkillManifest


def skill(network: str = "none", workspace: str = "none") -> SkillManifest:
    return SkillManifest(
        name="demo",
        description="d",
        parameters={"type": "object"},
        permissions=Permissions(network=network, workspace=workspace),  # type: ignore[arg-type]
        limits=Limits(timeout_s=3, memory_mb=96, cpus=0.5, pids=20),
    )


def test_the_hardening_is_always_there() -> None:
    options = container_options(skill(), "img:1", "hearth", "chat:1", None)
    assert options["network_mode"] == "none"
    assert options["read_only"] is True
    assert options["cap_drop"] == ["ALL"]
    assert options["security_opt"] == ["no-new-privileges:true"]
    assert options["user"] == "10001:10001"
    assert options["mem_limit"] == options["memswap_limit"] == "96m"
    assert options["nano_cpus"] == 500_000_000
    assert options["pids_limit"] == 20
    assert "noexec" in options["tmpfs"]["/tmp"]
    assert options["labels"]["org.hearth.sandbox"] == "hearth"
    assert options["labels"]["org.hearth.skill"] == "demo"
    assert "volumes" not in options
    assert "privileged" not in options


def test_no_network_unless_granted() -> None:
    options = container_options(skill(), "i", "h", "c", None, ("skills-net", {"HTTP_PROXY": "x"}))
    assert options["network_mode"] == "none"
    assert "network" not in options
    assert "HTTP_PROXY" not in options["environment"]


def test_egress_is_only_ever_through_the_proxy() -> None:
    proxy = {"HTTP_PROXY": "http://172.30.0.2:3128", "HTTPS_PROXY": "http://172.30.0.2:3128"}
    options = container_options(skill("egress"), "i", "h", "c", None, ("hearth-x-demo", proxy))
    assert "network_mode" not in options
    assert options["network"] == "hearth-x-demo"
    assert options["environment"]["HTTPS_PROXY"] == "http://172.30.0.2:3128"
    with pytest.raises(ValueError, match="needs the egress proxy"):
        container_options(skill("egress"), "i", "h", "c", None)


def test_only_the_chats_workspace_is_mounted(tmp_path: Path) -> None:
    options = container_options(skill(workspace="chat"), "i", "h", "c", tmp_path)
    assert options["volumes"] == {str(tmp_path): {"bind": "/workspace", "mode": "rw"}}
    assert "docker.sock" not in repr(options)


def test_a_workspace_skill_without_a_workspace_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a workspace"):
        container_options(skill(workspace="chat"), "i", "h", "c", None)


@pytest.mark.parametrize(
    ("a", "b"),
    [("whatsapp:+1555", "whatsapp_+1555"), ("a/b", "a_b"), ("../x", "x"), ("", " ")],
)
def test_distinct_chats_get_distinct_safe_directories(a: str, b: str) -> None:
    assert workspace_dir_name(a) != workspace_dir_name(b)
    for name in (workspace_dir_name(a), workspace_dir_name(b)):
        assert "/" not in name
        assert not name.startswith(".")
        assert name == workspace_dir_name(a if name == workspace_dir_name(a) else b)
