"""Skill manifests: each bad field is named, and one bad skill leaves the others loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.sandbox.errors import ManifestError
from assistant.sandbox.manifest import Limits, Permissions, load_skills, parse_manifest
from assistant.settings import SKILLS_DIR

GOOD: dict[str, Any] = {
    "name": "demo",
    "description": "Does a thing.",
    "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
    "permissions": {"network": "egress", "workspace": "chat"},
    "limits": {"timeout_s": 5, "memory_mb": 64, "cpus": 0.25, "pids": 16},
}


def with_(path: str, value: Any) -> dict[str, Any]:
    data = {key: dict(v) if isinstance(v, dict) else v for key, v in GOOD.items()}
    *parents, last = path.split(".")
    target = data
    for part in parents:
        target = target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return data


def test_a_good_manifest_keeps_every_field() -> None:
    skill = parse_manifest(GOOD, "demo")
    assert skill.permissions == Permissions(network="egress", workspace="chat")
    assert skill.limits == Limits(timeout_s=5.0, memory_mb=64, cpus=0.25, pids=16)
    assert skill.parameters["properties"] == {"x": {"type": "integer"}}


def test_permissions_and_limits_default_to_locked_down() -> None:
    skill = parse_manifest(with_("permissions", None) | {"limits": {}}, "demo")
    assert skill.permissions == Permissions(network="none", workspace="none")
    assert skill.limits == Limits()


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        (with_("name", "Demo"), "name", "lowercase"),
        (with_("name", "other"), "name", "match its directory"),
        (with_("name", None), "name", "lowercase"),
        (with_("description", "  "), "description", "non-empty"),
        (with_("description", 3), "description", "non-empty"),
        (with_("parameters", {"type": "array"}), "parameters", 'type = "object"'),
        (with_("parameters", {"type": "object", "required": 3}), "parameters", "JSON Schema"),
        (with_("parameters", None), "parameters", "JSON Schema table"),
        (with_("permissions.network", "host"), "permissions.network", "none, egress"),
        (with_("permissions.workspace", "all"), "permissions.workspace", "none, chat"),
        (with_("permissions.docker", True), "permissions.docker", "not a known permission"),
        (with_("permissions", "none"), "permissions", "table"),
        (with_("limits.timeout_s", 0), "limits.timeout_s", "between"),
        (with_("limits.timeout_s", "5"), "limits.timeout_s", "number"),
        (with_("limits.memory_mb", 1_000_000), "limits.memory_mb", "between"),
        (with_("limits.memory_mb", 64.5), "limits.memory_mb", "whole number"),
        (with_("limits.pids", True), "limits.pids", "number"),
        (with_("limits.cpus", 64), "limits.cpus", "between"),
        (with_("limits.swap_mb", 1), "limits.swap_mb", "not a known limit"),
        (GOOD | {"privileged": True}, "privileged", "not a known field"),
    ],
)
def test_a_bad_field_is_named(data: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data, "demo")
    assert caught.value.skill == "demo"
    assert caught.value.field == field
    assert problem in caught.value.problem


def write_skill(root: Path, name: str, toml: str, code: str = "def run(args, ctx): ...\n") -> None:
    (root / name).mkdir()
    (root / name / "skill.toml").write_text(toml)
    if code:
        (root / name / "main.py").write_text(code)


def test_bad_skills_are_reported_and_the_rest_still_load(tmp_path: Path) -> None:
    parameters = '[parameters]\ntype = "object"\n'
    write_skill(tmp_path, "good", f'name = "good"\ndescription = "fine"\n{parameters}')
    write_skill(tmp_path, "broken", 'name = "broken"\ndescription = \n')
    write_skill(tmp_path, "nocode", f'name = "nocode"\ndescription = "x"\n{parameters}', code="")
    write_skill(tmp_path, "wrong", f'name = "wrong"\ndescription = "x"\nlimits = 3\n{parameters}')
    skills = load_skills(tmp_path)
    assert list(skills.skills) == ["good"]
    assert sorted((e.skill, e.field) for e in skills.errors) == [
        ("broken", "skill.toml"),
        ("nocode", "main.py"),
        ("wrong", "limits"),
    ]


def test_the_shipped_skills_all_load() -> None:
    skills = load_skills(SKILLS_DIR)
    assert skills.errors == []
    assert sorted(skills.skills) == ["fetch", "notes", "python"]
    assert skills.skills["fetch"].permissions.network == "egress"
    assert skills.skills["notes"].permissions.workspace == "chat"
    assert skills.skills["python"].permissions == Permissions()
