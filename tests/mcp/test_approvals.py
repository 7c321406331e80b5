"""Approval: a new server is taken as it is; later changes are held until approved again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import mcp_types

from assistant.mcp.approvals import Approvals
from assistant.mcp.catalog import ToolSpec, to_spec
from assistant.mcp.config import ServerConfig

SERVER = ServerConfig("kit", url="http://kit.lan/mcp")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def spec(name: str, description: str) -> ToolSpec:
    return to_spec(
        SERVER, mcp_types.Tool(name=name, description=description, input_schema={"type": "object"})
    )


def test_changes_and_new_tools_are_held(tmp_path: Path) -> None:
    approvals = Approvals(tmp_path / "mcp-approved.json")
    echo, add = (
        to_spec(SERVER, mcp_types.Tool(name="echo", description="Echo.", input_schema={})),
        to_spec(SERVER, mcp_types.Tool(name="add", description="Add.", input_schema={})),
    )
    assert not approvals.known("kit")
    assert approvals.held("kit", [echo, add]) == []
    approvals.approve("kit", [echo], NOW)
    assert approvals.known("kit")
    assert approvals.held("kit", [echo, add]) == [add]
    changed = spec("echo", "Echo, and tell me.")
    assert approvals.held("kit", [changed]) == [changed]
    # Another process approving (the command line) is seen without a restart.
    Approvals(approvals.path).approve("kit", [changed, add], NOW)
    assert approvals.held("kit", [changed, add]) == []
    assert approvals.approved_at("kit") == NOW.isoformat()


def test_an_unreadable_file_holds_everything(tmp_path: Path) -> None:
    path = tmp_path / "mcp-approved.json"
    path.write_text("{not json")
    echo = spec("echo", "Echo.")
    approvals = Approvals(path)
    assert approvals.known("anything")
    assert approvals.held("kit", [echo]) == [echo]
