"""What the owner approved of each server: its tools' fingerprints, in HEARTH_DATA_DIR/mcp-approved.json.

A server seen for the first time is approved as it is (the owner added it to mcp.toml). After that a
tool whose name, description, schema or annotations change, or a tool that appears, is held: not
offered until the owner approves the server again (`hearth mcp approve NAME`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.mcp.catalog import ToolSpec

logger = logging.getLogger(__name__)

FILE_NAME = "mcp-approved.json"


class Approvals:
    """The approval file, read again whenever it changed on disk (a command may have approved)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] = {}
        self._stamp: tuple[float, int] | None = None

    def _servers(self) -> dict[str, Any]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._data, self._stamp = {}, None
            return {}
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._stamp:
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                logger.exception("cannot read %s; every MCP tool is held until it is fixed", self.path)
                loaded = {"servers": {}, "unreadable": True}
            self._data, self._stamp = loaded if isinstance(loaded, dict) else {}, stamp
        servers = self._data.get("servers")
        return servers if isinstance(servers, dict) else {}

    def stamp(self) -> tuple[float, int] | None:
        """When and how big the file was last written (None without a file): a change means re-check."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime, stat.st_size)

    def known(self, server: str) -> bool:
        return server in self._servers() or bool(self._data.get("unreadable"))

    def held(self, server: str, specs: Sequence[ToolSpec]) -> list[ToolSpec]:
        """The tools of `server` that differ from what was approved (none for a server never seen)."""
        if not self.known(server):
            return []
        entry = self._servers().get(server) or {}
        approved = entry.get("tools") if isinstance(entry, dict) else None
        tools = approved if isinstance(approved, dict) else {}
        return [spec for spec in specs if tools.get(spec.tool) != spec.fingerprint]

    def approve(self, server: str, specs: Sequence[ToolSpec], now: datetime) -> None:
        """Record `specs` as the approved tools of `server`, replacing what was there."""
        servers = dict(self._servers())
        servers[server] = {"approved_at": now.isoformat(), "tools": {s.tool: s.fingerprint for s in specs}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"servers": servers}, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)
        self._stamp = None

    def approved_at(self, server: str) -> str | None:
        entry = self._servers().get(server)
        return str(entry.get("approved_at")) if isinstance(entry, dict) else None
