"""Skill manifests: `skills/<name>/skill.toml` read with tomllib and checked field by field."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from assistant.sandbox.arguments import schema_problem
from assistant.sandbox.egress import EgressError, host_names
from assistant.sandbox.errors import ManifestError

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TOP_LEVEL_KEYS = frozenset({"name", "description", "parameters", "permissions", "limits"})
NETWORK_CHOICES = ("none", "egress")
WORKSPACE_CHOICES = ("none", "chat")
# (lowest, highest, default) for each limit; the bounds keep one skill from taking the machine.
LIMIT_RANGES: dict[str, tuple[float, float, float]] = {
    "timeout_s": (0.1, 300, 10),
    "memory_mb": (16, 4096, 128),
    "cpus": (0.05, 8, 0.5),
    "pids": (4, 1024, 32),
}


@dataclass(frozen=True)
class Permissions:
    """What a skill's container may do; `hosts` narrows egress to those hosts (none: any public)."""

    network: Literal["none", "egress"] = "none"
    workspace: Literal["none", "chat"] = "none"
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10
    memory_mb: int = 128
    cpus: float = 0.5
    pids: int = 32


@dataclass(frozen=True)
class SkillManifest:
    """One skill as Hearth knows it: what the model sees and what its container may do."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    permissions: Permissions = field(default_factory=Permissions)
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class SkillSet:
    """The skills that loaded, and the errors of those that did not."""

    skills: Mapping[str, SkillManifest]
    errors: list[ManifestError]


def parse_manifest(data: Mapping[str, Any], dir_name: str) -> SkillManifest:
    """A checked manifest from parsed TOML; raises ManifestError naming the first bad field."""
    fail = _failer(dir_name)
    unknown = sorted(set(data) - TOP_LEVEL_KEYS)
    if unknown:
        fail(unknown[0], "is not a known field")
    name = data.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        fail("name", "must be lowercase letters, digits or _ (at most 32), starting with a letter")
    if name != dir_name:
        fail("name", f"must match its directory {dir_name!r}")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        fail("description", "must be a non-empty string")
    return SkillManifest(
        name=cast(str, name),
        description=cast(str, description).strip(),
        parameters=_parameters(data.get("parameters"), fail),
        permissions=_permissions(data.get("permissions", {}), fail),
        limits=_limits(data.get("limits", {}), fail),
    )


def _failer(skill: str) -> Callable[[str, str], None]:
    def fail(field_name: str, problem: str) -> None:
        raise ManifestError(skill, field_name, problem)

    return fail


def _parameters(value: Any, fail: Callable[[str, str], None]) -> Mapping[str, Any]:
    if not isinstance(value, dict) or value.get("type") != "object":
        fail("parameters", 'must be a JSON Schema table with type = "object"')
    problem = schema_problem(value)
    if problem:
        fail("parameters", problem)
    return cast(dict[str, Any], value)


def _permissions(value: Any, fail: Callable[[str, str], None]) -> Permissions:
    if not isinstance(value, dict):
        fail("permissions", "must be a table")
    for key in sorted(set(value) - {"network", "workspace", "hosts"}):
        fail(f"permissions.{key}", "is not a known permission")
    network = value.get("network", "none")
    workspace = value.get("workspace", "none")
    if network not in NETWORK_CHOICES:
        fail("permissions.network", f"must be one of {', '.join(NETWORK_CHOICES)}")
    if workspace not in WORKSPACE_CHOICES:
        fail("permissions.workspace", f"must be one of {', '.join(WORKSPACE_CHOICES)}")
    return Permissions(network=network, workspace=workspace, hosts=_hosts(value, network, fail))


def _hosts(value: dict[str, Any], network: str, fail: Callable[[str, str], None]) -> tuple[str, ...]:
    hosts = value.get("hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        fail("permissions.hosts", "must be a list of host names")
    if hosts and network != "egress":
        fail("permissions.hosts", 'narrows egress, so it needs network = "egress"')
    try:
        return host_names(hosts, "permissions.hosts")
    except EgressError as exc:
        fail("permissions.hosts", str(exc).split(": ", 1)[1])
        raise


def _limits(value: Any, fail: Callable[[str, str], None]) -> Limits:
    if not isinstance(value, dict):
        fail("limits", "must be a table")
    numbers: dict[str, Any] = {}
    for key in sorted(value):
        if key not in LIMIT_RANGES:
            fail(f"limits.{key}", "is not a known limit")
        low, high, _ = LIMIT_RANGES[key]
        number = value[key]
        if isinstance(number, bool) or not isinstance(number, int | float):
            fail(f"limits.{key}", "must be a number")
        if not low <= number <= high:
            fail(f"limits.{key}", f"must be between {low:g} and {high:g}")
        if key in {"memory_mb", "pids"} and not float(number).is_integer():
            fail(f"limits.{key}", "must be a whole number")
        numbers[key] = int(number) if key in {"memory_mb", "pids"} else float(number)
    return Limits(**numbers)


def load_manifest(skill_dir: Path) -> SkillManifest:
    """Read and check `skill_dir/skill.toml`; raises ManifestError."""
    path = skill_dir / "skill.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(skill_dir.name, "skill.toml", "is missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(skill_dir.name, "skill.toml", f"is not valid TOML ({exc})") from None
    if not (skill_dir / "main.py").is_file():
        raise ManifestError(skill_dir.name, "main.py", "is missing")
    return parse_manifest(data, skill_dir.name)


def load_skills(skills_dir: Path) -> SkillSet:
    """Every skill under `skills_dir`; a bad one is logged and left out, the others still load."""
    skills: dict[str, SkillManifest] = {}
    errors: list[ManifestError] = []
    if not skills_dir.is_dir():
        logger.info("no skills directory at %s", skills_dir)
        return SkillSet(skills=skills, errors=errors)
    for skill_dir in sorted(p for p in skills_dir.iterdir() if p.is_dir()):
        if skill_dir.name.startswith((".", "_")):
            continue
        try:
            skills[skill_dir.name] = load_manifest(skill_dir)
        except ManifestError as exc:
            logger.error("skipping a skill: %s", exc)
            errors.append(exc)
    return SkillSet(skills=skills, errors=errors)
