"""mcp.toml: one table per server, checked field by field; a bad server names itself and the field,
and the others still load."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.errors import HearthError

FILE_NAME = "mcp.toml"
NAME = re.compile(r"[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*")
MAX_NAME = 32
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
HOST = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")
TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
STDIO_ONLY = ("image", "command", "network", "allow_hosts", "env", "scope", "memory_mb", "cpus", "pids")
HTTP_ONLY = ("url", "headers")


class ConfigError(HearthError):
    """One server's entry cannot be used; the message names the file, the server and the field."""


@dataclass(frozen=True)
class ServerConfig:
    """One MCP server: `image` and `command` for stdio in a container, or `url` for streamable HTTP."""

    name: str
    image: str = ""
    command: tuple[str, ...] = ()
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    network: Literal["none", "egress"] = "none"
    allow_hosts: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    timeout_s: float = 30.0
    scope: Literal["chat", "shared"] = "chat"
    memory_mb: int = 256
    cpus: float = 0.5
    pids: int = 64
    description: str = ""

    @property
    def kind(self) -> Literal["stdio", "http"]:
        return "stdio" if self.image else "http"

    @property
    def shared(self) -> bool:
        """One connection for every chat (always for HTTP), or one container per chat."""
        return self.kind == "http" or self.scope == "shared"

    def offers(self, tool: str) -> bool:
        """Whether `include` / `exclude` let the model see this tool."""
        return (not self.include or tool in self.include) and tool not in self.exclude


@dataclass(frozen=True)
class ServerBook:
    servers: dict[str, ServerConfig] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty string")
    return value.strip()


def _words(pattern: re.Pattern[str], what: str) -> Callable[[Any], tuple[str, ...]]:
    def parse(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and pattern.fullmatch(v) for v in value):
            raise ValueError(f"a list of {what}")
        return tuple(value)

    return parse


def _command(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError('a non-empty list of strings, such as ["python3", "-m", "server"]')
    return tuple(value)


def _url(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"https?://[^/\s]+", value):
        raise ValueError("an http:// or https:// URL")
    return value


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(" or ".join(f'"{o}"' for o in options))
        return str(value)

    return parse


def _number(low: float, high: float, whole: bool = False) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        kinds = int if whole else int | float
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            raise ValueError(f"a {'whole ' if whole else ''}number from {low:g} to {high:g}")
        return value

    return parse


def _table(keys: re.Pattern[str]) -> Callable[[Any], dict[str, str]]:
    def parse(value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and keys.fullmatch(k) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError("a table of names to strings")
        return dict(value)

    return parse


FIELDS: dict[str, Callable[[Any], Any]] = {
    "image": _text,
    "command": _command,
    "url": _url,
    "headers": _table(re.compile(r"[A-Za-z0-9-]+")),
    "network": _choice("none", "egress"),
    "allow_hosts": _words(HOST, "host names such as api.example.org or *.example.org"),
    "env": _table(ENV_NAME),
    "include": _words(TOOL_NAME, "tool names"),
    "exclude": _words(TOOL_NAME, "tool names"),
    "timeout_s": _number(0.1, 600),
    "scope": _choice("chat", "shared"),
    "memory_mb": _number(16, 4096, whole=True),
    "cpus": _number(0.05, 8),
    "pids": _number(4, 1024, whole=True),
    "description": _text,
}


def expand(value: str, environ: Mapping[str, str]) -> str:
    """`${NAME}` replaced by the variable's value; ValueError naming a variable that is not set."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not environ.get(name):
            raise ValueError(f"${{{name}}} is not set in the environment or .env")
        return environ[name]

    return VARIABLE.sub(replace, value)


def _check_shape(values: Mapping[str, Any]) -> None:
    """Raises ValueError-like (field, problem) pairs for fields that do not go together."""
    if bool(values.get("image")) == bool(values.get("url")):
        raise ConfigError("give either image and command (stdio) or url (streamable HTTP)")
    wrong = [k for k in (HTTP_ONLY if values.get("image") else STDIO_ONLY) if k in values]
    if wrong:
        raise ConfigError(f"field {wrong[0]!r} does not go with {'image' if values.get('image') else 'url'}")
    if values.get("image") and "command" not in values:
        raise ConfigError("field 'command' is missing")
    if values.get("allow_hosts") and values.get("network") != "egress":
        raise ConfigError("field 'allow_hosts' needs network = \"egress\"")


def parse_server(name: str, table: Any, source: str, environ: Mapping[str, str]) -> ServerConfig:
    """One server from its TOML table; ConfigError names `source`, the server and the first bad field."""
    where = f"{source}: server {name!r}"
    if not NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise ConfigError(f"{where}: the name must be lowercase letters and digits, single - or _ between")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table [servers.{name}]")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in FIELDS:
            raise ConfigError(f"{where}: unknown field {key!r}; known: {', '.join(FIELDS)}")
        try:
            values[key] = FIELDS[key](value)
        except ValueError as exc:
            raise ConfigError(f"{where}: field {key!r} must be {exc}") from None
    try:
        _check_shape(values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    for key in ("env", "headers"):
        for inner, raw in values.get(key, {}).items():
            try:
                values[key][inner] = expand(raw, environ)
            except ValueError as exc:
                raise ConfigError(f"{where}: field '{key}.{inner}': {exc}") from None
    return ServerConfig(name=name, **values)


def parse_text(text: str, source: str, environ: Mapping[str, str]) -> ServerBook:
    """Every server in the file's text; a file that is not TOML, or has no [servers], is one error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return ServerBook(errors=[f"{source}: not valid TOML ({exc})"])
    unknown = sorted(set(data) - {"servers"})
    servers = data.get("servers", {})
    if unknown or not isinstance(servers, dict):
        return ServerBook(errors=[f"{source}: expected only [servers.NAME] tables"])
    book = ServerBook()
    for name, table in servers.items():
        try:
            book.servers[name] = parse_server(name, table, source, environ)
        except ConfigError as exc:
            book.errors.append(str(exc))
    return book


def load_servers(data_dir: Path, environ: Mapping[str, str]) -> ServerBook:
    """The servers in `data_dir/mcp.toml`; no file means no servers."""
    path = data_dir / FILE_NAME
    if not path.is_file():
        return ServerBook()
    return parse_text(path.read_text(encoding="utf-8"), str(path), environ)
