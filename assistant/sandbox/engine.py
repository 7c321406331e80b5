"""Whether the Docker engine shares Hearth's file system, which decides where workspaces live.

A bind mount names a folder on the engine's own machine. That is Hearth's folder when the engine
is reached through a socket or at a loopback address, and some other machine's when DOCKER_HOST
names another host: then each chat's workspace is a named volume on the engine instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

WorkspaceKind = Literal["bind", "volume"]
LOCAL_SCHEMES = frozenset({"", "unix", "npipe", "fd"})
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def engine_is_remote(docker_host: str | None) -> bool:
    """True when `docker_host` (DOCKER_HOST as docker-py reads it) names an engine on another
    machine: a tcp://, http(s):// or ssh:// address whose host is neither a loopback address nor
    localhost. Unset, a socket, or a loopback address is this machine."""
    if not docker_host:
        return False
    parts = urlsplit(docker_host if "://" in docker_host else f"tcp://{docker_host}")
    if parts.scheme in LOCAL_SCHEMES:
        return False
    host = (parts.hostname or "").lower()
    if not host or host in LOCAL_NAMES:
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a host name other than localhost


def workspace_kind(setting: str, environ: Mapping[str, str]) -> WorkspaceKind:
    """`bind` or `volume` as HEARTH_SKILL_WORKSPACES says; `auto` is `volume` for a remote engine."""
    if setting in ("bind", "volume"):
        return "bind" if setting == "bind" else "volume"
    return "volume" if engine_is_remote(environ.get("DOCKER_HOST")) else "bind"


def describe(kind: WorkspaceKind, setting: str, environ: Mapping[str, str]) -> str:
    """One line for `hearth doctor`: where workspaces live, and why."""
    host = environ.get("DOCKER_HOST") or "the local socket"
    why = f"HEARTH_SKILL_WORKSPACES={setting}" if setting != "auto" else f"the engine is {host}"
    if kind == "volume":
        return f"named Docker volumes on the engine, files copied through its API ({why})"
    return f"folders under the data directory, bind-mounted ({why})"
