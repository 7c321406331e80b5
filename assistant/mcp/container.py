"""How a stdio server's container is configured: the sandbox's hardening, the server's command and
variables, and (for network = "egress") the way out."""

from __future__ import annotations

from typing import Any

from assistant.mcp.config import ServerConfig
from assistant.sandbox.container import LABEL_CHAT, LABEL_INSTANCE, Egress, locked_down, workspace_dir_name
from assistant.sandbox.manifest import Limits

LABEL_SERVER = "org.hearth.mcp"
SHARED = "shared"


def server_options(
    server: ServerConfig, instance: str, chat_key: str | None, egress: Egress | None = None
) -> dict[str, Any]:
    """Keyword arguments for `containers.create`: locked down like a skill, running `command` in place
    of the image's entrypoint, one container per chat (`chat_key`) or one shared (None). A server
    with network = "egress" needs `egress` (its network, whose one way out is the egress proxy, and
    the variables that point it there); ValueError without it. Any other server gets no network."""
    if server.network == "egress" and egress is None:
        raise ValueError(f"MCP server {server.name} needs the egress proxy")
    limits = Limits(server.timeout_s, server.memory_mb, server.cpus, server.pids)
    labels = {
        LABEL_INSTANCE: instance,
        LABEL_SERVER: server.name,
        LABEL_CHAT: workspace_dir_name(chat_key) if chat_key is not None else SHARED,
    }
    environment = {"HOME": "/tmp", **server.env}  # noqa: S108 (the container's own /tmp)
    way_out = egress if server.network == "egress" else None
    options = locked_down(server.image, limits=limits, labels=labels, environment=environment, egress=way_out)
    options["entrypoint"] = [server.command[0]]
    options["command"] = list(server.command[1:])
    options["working_dir"] = "/tmp"  # noqa: S108
    return options
