"""A skill that fills its workspace, for the quota tests; and leaves files only it may read."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

CHUNK = b"x" * 1024 * 64


def write(workspace: Path, args: dict[str, Any]) -> str:
    path = workspace / args["name"]
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = max(1, args["kb"] // 64)
    with path.open("ab") as out:
        for _ in range(chunks):
            out.write(CHUNK)
            out.flush()
            time.sleep(args.get("pause_s", 0))
    return f"wrote {chunks * 64} KB to {args['name']}"


def private(workspace: Path, args: dict[str, Any]) -> str:
    # What tempfile.mkstemp and a umask of 077 make: readable by this user alone.
    fd = os.open(workspace / "private.txt", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"mine")
    os.close(fd)
    (workspace / "closed").mkdir(mode=0o700, exist_ok=True)
    (workspace / "closed" / "inside.txt").write_text("inside")
    (workspace / "closed" / "inside.txt").chmod(0o600)
    return "wrote private files"


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    workspace = Path(ctx["workspace"])
    if args["action"] == "write":
        return write(workspace, args)
    if args["action"] == "remove":
        (workspace / args["name"]).unlink()
        return "removed"
    return private(workspace, args)
