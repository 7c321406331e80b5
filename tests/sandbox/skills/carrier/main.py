"""A skill that keeps files in its workspace and sends them back, for the workspace volume tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    workspace = Path(ctx["workspace"])
    if args["action"] == "keep":
        (workspace / args["name"]).write_text(args["text"], encoding="utf-8")
        return f"kept {args['name']}"
    if args["action"] == "list":
        found = {str(p.relative_to(workspace)): p.stat().st_size for p in workspace.rglob("*") if p.is_file()}
        return json.dumps(found, sort_keys=True)
    shutil.copy(workspace / args["name"], Path(ctx["outbox"]) / args["name"])
    return f"sent {args['name']}"
