"""Who may do what: a policy per role, as data, from built-in defaults and `policy.toml`.

Roles are `owner` (HEARTH_OWNERS, the HTTP API and the terminal) and `member` (approved through
pairing); a job acts with the role of its chat. Code asks `policy.may_use(role, tool)` and
`policy.needs_approval(role, tool)`, and reads caps from `policy.role(role)`.

A member acts with the `member` policy unless the owner gave them a named one (on the dashboard's
People page): `[members.NAME]` tables in policy.toml, each laid over the member policy. The name
then stands in for the role wherever a policy is read; it can never be `owner`.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assistant.errors import HearthError

FILE_NAME = "policy.toml"
ROLES = ("owner", "member")
MEMBERS = "members"
# A named member policy: short (it is stored with each approval as the role), never a role's name.
POLICY_NAME = re.compile(r"[a-z][a-z0-9_-]{0,15}")
DELEGATE = "delegate"
MEMBER_TOOLS = (
    "get_time",
    "remember",
    "forget",
    "recall",
    "schedule_reminder",
    "schedule_task",
    "list_jobs",
    "cancel_job",
    "pause_job",
    "resume_job",
    "set_timezone",
    "python",
    "notes",
)


class PolicyError(HearthError):
    """The policy file cannot be used; the message names the file, the role and the field."""


@dataclass(frozen=True)
class RolePolicy:
    """What one role may do. Tool lists hold names or globs (`mcp_*`); 0 means no limit."""

    tools: tuple[str, ...]
    deny: tuple[str, ...] = ()
    approve: tuple[str, ...] = ()
    max_active_jobs: int = 0
    min_interval_s: float = 60.0
    teams: bool = True
    tokens_per_day: int = 0

    def may_use(self, tool: str) -> bool:
        """`teams` alone decides `delegate`; `deny` wins over everything."""
        if _matches(tool, self.deny):
            return False
        return self.teams if tool == DELEGATE else _matches(tool, self.tools)

    def must_ask(self, tool: str) -> bool:
        return _matches(tool, self.approve)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


DEFAULTS: Mapping[str, RolePolicy] = {
    "owner": RolePolicy(tools=("*",)),
    "member": RolePolicy(
        tools=MEMBER_TOOLS, max_active_jobs=10, min_interval_s=900.0, teams=False, tokens_per_day=200_000
    ),
}


@dataclass(frozen=True)
class Policy:
    """The policy for every role, and where it came from (for `hearth doctor` and the log)."""

    roles: Mapping[str, RolePolicy]
    source: str = "built-in defaults"

    def role(self, name: str) -> RolePolicy:
        """The policy of `name`; an unknown role gets the member's, the narrower one."""
        return self.roles.get(name) or self.roles["member"]

    def may_use(self, role: str, tool: str) -> bool:
        return self.role(role).may_use(tool)

    def needs_approval(self, role: str, tool: str) -> bool:
        """Whether the role must always ask first, whatever the turn has seen."""
        return self.role(role).must_ask(tool)

    def member_policies(self) -> tuple[str, ...]:
        """The policies a member can be given: `member`, then the named ones, sorted."""
        return ("member", *sorted(name for name in self.roles if name not in ROLES))


DEFAULT_POLICY = Policy(DEFAULTS)


def _names(value: Any, fail: Callable[[str], None]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        fail("must be a list of tool names (globs such as mcp_* allowed)")
    return tuple(v.strip() for v in value)


def _whole(value: Any, fail: Callable[[str], None]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail("must be a whole number, 0 or more (0: no limit)")
    return int(value)


def _seconds(value: Any, fail: Callable[[str], None]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 60:
        fail("must be a number of seconds, at least 60")
    return float(value)


def _flag(value: Any, fail: Callable[[str], None]) -> bool:
    if not isinstance(value, bool):
        fail("must be true or false")
    return bool(value)


_FIELDS: dict[str, Callable[[Any, Callable[[str], None]], Any]] = {
    "tools": _names,
    "grant": _names,
    "deny": _names,
    "approve": _names,
    "max_active_jobs": _whole,
    "min_interval_s": _seconds,
    "teams": _flag,
    "tokens_per_day": _whole,
}


def _role(base: RolePolicy, table: Any, where: str) -> RolePolicy:
    def failer(name: str) -> Callable[[str], None]:
        def fail(problem: str) -> None:
            raise PolicyError(f"{where}: {name}: {problem}")

        return fail

    if not isinstance(table, dict):
        failer("(table)")("must be a table such as [member]")
    values: dict[str, Any] = {}
    for name in sorted(table):
        if name not in _FIELDS:
            failer(name)(f"is not a known field; use one of {', '.join(sorted(_FIELDS))}")
        values[name] = _FIELDS[name](table[name], failer(name))
    granted = values.pop("grant", ())
    role = replace(base, **values)
    return replace(role, tools=role.tools + tuple(g for g in granted if g not in role.tools))


def parse_policy(data: Mapping[str, Any], source: str) -> Policy:
    """The defaults with each role table of `data` laid over them, then the named member policies
    (`[members.NAME]`) laid over the member's; PolicyError names what is wrong."""
    roles = dict(DEFAULTS)
    for name, table in data.items():
        if name == MEMBERS:
            continue
        if name not in ROLES:
            known = ", ".join((*ROLES, MEMBERS + ".NAME"))
            raise PolicyError(f"{source}: role {name!r}: is not a role; use one of {known}")
        roles[name] = _role(DEFAULTS[name], table, f"{source}: role {name!r}")
    named = data.get(MEMBERS, {})
    if not isinstance(named, dict):
        raise PolicyError(f"{source}: {MEMBERS}: must hold tables such as [members.family]")
    for name, table in sorted(named.items()):
        where = f"{source}: policy {MEMBERS}.{name}"
        if not POLICY_NAME.fullmatch(name) or name in (*ROLES, MEMBERS):
            raise PolicyError(f"{where}: a name is 1 to 16 of a-z, 0-9, _ and -, and not owner or member")
        roles[name] = _role(roles["member"], table, where)
    return Policy(roles, source)


def load_policy(data_dir: Path) -> Policy:
    """The policy from `data_dir/policy.toml` over the defaults, or the defaults when there is no file."""
    path = data_dir / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DEFAULT_POLICY
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: is not valid TOML ({exc})") from None
    return parse_policy(data, str(path))
