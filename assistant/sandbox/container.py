"""How a skill's container is configured: every limit and permission in one pure function."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assistant.sandbox.manifest import Limits, SkillManifest

WORKER_UID = 10001
WORKER_USER = f"{WORKER_UID}:{WORKER_UID}"
WORKSPACE_MOUNT = "/workspace"
TMP_OPTIONS = "rw,noexec,nosuid,nodev,size=16m"
# Where a skill leaves files for the reply; its size is the cap on what one call sends back.
OUTBOX_MOUNT = "/outbox"
OUTBOX_OPTIONS = "rw,noexec,nosuid,nodev,size=16m"
LABEL_INSTANCE = "org.hearth.sandbox"
LABEL_SKILL = "org.hearth.skill"
LABEL_CHAT = "org.hearth.chat"


def workspace_dir_name(chat_key: str) -> str:
    """A directory name for a chat: readable, filesystem-safe, and distinct for distinct keys."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", chat_key).strip("_")[:40] or "chat"
    return f"{readable}-{hashlib.sha256(chat_key.encode()).hexdigest()[:12]}"


def instance_filter(instance: str) -> dict[str, str]:
    """The filter that finds every container this instance started."""
    return {"label": f"{LABEL_INSTANCE}={instance}"}


Egress = tuple[str, Mapping[str, str]]  # the container's own network, and the proxy settings for it


def locked_down(
    image: str,
    *,
    limits: Limits,
    labels: Mapping[str, str],
    environment: Mapping[str, str],
    egress: Egress | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `containers.create` that every untrusted container gets (skills and MCP
    servers alike): no network, or with `egress` only its own internal network whose one way out is
    the egress proxy; a read-only root, no capabilities, a non-root user, memory without swap, CPU and
    process limits, and no host path at all."""
    memory = f"{limits.memory_mb}m"
    options: dict[str, Any] = {
        "image": image,
        "stdin_open": True,  # with detach=False this also sets StdinOnce: EOF reaches the process
        "environment": dict(environment),
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {"/tmp": TMP_OPTIONS, OUTBOX_MOUNT: OUTBOX_OPTIONS},  # noqa: S108 (the container's own /tmp)
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "user": WORKER_USER,
        "mem_limit": memory,
        "memswap_limit": memory,  # equal to the memory limit: no swap
        "nano_cpus": int(limits.cpus * 1_000_000_000),
        "pids_limit": limits.pids,
        "ipc_mode": "private",
        # Output travels over the attach stream; a log driver would copy a flood to the host's disk.
        "log_config": {"type": "none", "config": {}},
        "labels": dict(labels),
    }
    if egress is not None:
        network, proxy = egress
        del options["network_mode"]
        options["network"] = network
        options["environment"].update(proxy)
    return options


def container_options(
    manifest: SkillManifest,
    image: str,
    instance: str,
    chat_key: str,
    workspace: Path | str | None,
    egress: Egress | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `containers.create`: locked down except what the manifest grants.

    Only the chat's own workspace may be mounted, and only when the skill asked for it: a folder
    (a Path, as the engine's host sees it) or a named volume (its name). A skill
    with egress joins its own internal network, whose only way out is the egress proxy.
    """
    if manifest.permissions.network == "egress" and egress is None:
        raise ValueError(f"skill {manifest.name} needs the egress proxy")
    labels = {LABEL_INSTANCE: instance, LABEL_SKILL: manifest.name, LABEL_CHAT: workspace_dir_name(chat_key)}
    options = locked_down(
        image,
        limits=manifest.limits,
        labels=labels,
        environment={"HEARTH_SKILL": manifest.name},
        egress=egress if manifest.permissions.network == "egress" else None,
    )
    if manifest.permissions.workspace == "chat":
        if workspace is None:
            raise ValueError(f"skill {manifest.name} needs a workspace")
        options["volumes"] = {str(workspace): {"bind": WORKSPACE_MOUNT, "mode": "rw"}}
    return options
