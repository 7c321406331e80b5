"""Team roles as data: the built-in roles.toml, then HEARTH_DATA_DIR/roles/*.toml by name."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.errors import HearthError

BUILTIN = "roles.toml"
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
DEFAULT_MAX_STEPS = 6
DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Role:
    """A kind of team member: its system prompt, the tools it may use, its model and its limits."""

    name: str
    description: str
    instructions: str
    tools: tuple[str, ...] = ()
    model: str | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    timeout_s: float = DEFAULT_TIMEOUT_S


class RoleError(HearthError):
    """A role file Hearth cannot use; the message names the file, the role and the field."""


@dataclass(frozen=True)
class RoleBook:
    """The roles that loaded, and one message per role (or file) that did not."""

    roles: dict[str, Role] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty string")
    return value.strip()


def _tools(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("a list of tool names")
    return tuple(value)


def _steps(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
        raise ValueError("a whole number from 1 to 50")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ValueError("a number of seconds above 0 and at most 3600")
    return float(value)


FIELDS: dict[str, Callable[[Any], Any]] = {
    "description": _text,
    "instructions": _text,
    "tools": _tools,
    "model": _text,
    "max_steps": _steps,
    "timeout_s": _seconds,
}
REQUIRED = ("description", "instructions")


def parse_role(name: str, table: Any, source: str) -> Role:
    """One role from its TOML table; RoleError names `source`, the role and the first bad field."""
    where = f"{source}: role {name!r}"
    if not _NAME.fullmatch(name):
        raise RoleError(f"{where}: the name must be lowercase letters, digits, - or _ (at most 32)")
    if not isinstance(table, dict):
        raise RoleError(f"{where}: expected a table [{name}] with the role's fields")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in FIELDS:
            raise RoleError(f"{where}: unknown field {key!r}; known: {', '.join(FIELDS)}")
        try:
            values[key] = FIELDS[key](value)
        except ValueError as exc:
            raise RoleError(f"{where}: field {key!r} must be {exc}") from None
    for key in REQUIRED:
        if key not in values:
            raise RoleError(f"{where}: field {key!r} is missing")
    return Role(name=name, **values)


def parse_roles(data: Mapping[str, Any], source: str) -> RoleBook:
    """Every role in one parsed file; a bad role is an error and the others still load."""
    book = RoleBook()
    for name, table in data.items():
        try:
            book.roles[name] = parse_role(name, table, source)
        except RoleError as exc:
            book.errors.append(str(exc))
    return book


def parse_text(text: str, source: str) -> RoleBook:
    """The roles in one file's text; a file that is not TOML is one error naming it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return RoleBook(errors=[f"{source}: not valid TOML ({exc})"])
    return parse_roles(data, source)


def builtin_text() -> str:
    return resources.files("assistant.team").joinpath(BUILTIN).read_text(encoding="utf-8")


def load_roles(data_dir: Path | None) -> RoleBook:
    """The built-in roles, then `data_dir/roles/*.toml` in name order; a later role replaces an earlier."""
    books = [parse_text(builtin_text(), BUILTIN)]
    folder = data_dir / "roles" if data_dir is not None else None
    if folder is not None and folder.is_dir():
        books += [
            parse_text(path.read_text(encoding="utf-8"), str(path)) for path in sorted(folder.glob("*.toml"))
        ]
    merged = RoleBook()
    for book in books:
        merged.roles.update(book.roles)
        merged.errors.extend(book.errors)
    return merged
