"""How a stdio server's container is configured: the sandbox's hardening, the server's command and
variables, and (for network = "egress") the way out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.mcp.config import ServerConfig
from assistant.sandbox.container import LABEL_CHAT, LABEL_INSTANCE, locked_down, workspace_dir_name
from assistant.sandbox.manifest import Limits

LABEL_SERVER = "org.hearth.mcp"
SHARED = "shared"


def egress(server: ServerConfig) -> Mapping[str, str]:
    """What a server with network = "egress" needs beyond the sandbox's egress network: the
    variables that point it at the egress proxy, whose allow-list is `server.allow_hosts`.

    The sandbox decides the network itself (`locked_down`); this is the one place an MCP server's
    own egress settings join it.
    """
    return {}


def server_options(server: ServerConfig, instance: str, chat_key: str | None) -> dict[str, Any]:
    """Keyword arguments for `containers.create`: locked down like a skill, running `command` in place
    of the image's entrypoint, one container per chat (`chat_key`) or one shared (None)."""
    limits = Limits(server.timeout_s, server.memory_mb, server.cpus, server.pids)
    labels = {
        LABEL_INSTANCE: instance,
        LABEL_SERVER: server.name,
        LABEL_CHAT: workspace_dir_name(chat_key) if chat_key is not None else SHARED,
    }
    environment = {"HOME": "/tmp", **server.env}  # noqa: S108 (the container's own /tmp)
    if server.network == "egress":
        environment.update(egress(server))
    options = locked_down(server.image, limits=limits, labels=labels, environment=environment)
    options["entrypoint"] = [server.command[0]]
    options["command"] = list(server.command[1:])
    options["working_dir"] = "/tmp"  # noqa: S108
    return options
