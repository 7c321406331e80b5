"""Hearth's skill worker: JSON lines on stdin, one response line per request on stdout."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import json
import os
import shutil
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

SKILLS_DIR = Path(os.environ.get("HEARTH_SKILLS_DIR", "/opt/hearth/skills"))
WORKSPACE = Path("/workspace")
# Files a skill writes here go back with its result (then the folder is emptied for the next call).
OUTBOX = Path(os.environ.get("HEARTH_OUTBOX", "/outbox"))
OUTBOX_MAX_FILES = 5
OUTBOX_MAX_BYTES = 16 * 1024 * 1024
PRINTED_LIMIT_CHARS = 4_000
ERROR_LIMIT_CHARS = 2_000


class CappedBuffer(io.TextIOBase):
    """Keeps the first `limit` characters written to it and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.limit - self.kept
        self.parts.append(text[:room])
        self.kept += min(len(text), room)
        self.dropped += max(0, len(text) - room)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


def open_protocol_channel() -> TextIO:
    """Keep a private copy of stdout for responses; stray writes to fd 1 go to stderr instead."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def load_skill(name: str, cache: dict[str, ModuleType]) -> ModuleType:
    if name in cache:
        return cache[name]
    path = SKILLS_DIR / name / "main.py"
    spec = importlib.util.spec_from_file_location(f"hearth_skill_{name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise LookupError(f"no skill named {name!r} in this worker")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cache[name] = module
    return module


def context_for(name: str, call_key: str = "") -> dict[str, Any]:
    """What a skill's `run` gets besides its arguments: `call_key` names the tool call, so a skill
    that creates something can create it once when the same call is replayed."""
    workspace = str(WORKSPACE) if WORKSPACE.is_dir() else None
    outbox = str(OUTBOX) if OUTBOX.is_dir() else None
    return {"skill": name, "workspace": workspace, "outbox": outbox, "call_key": call_key}


def empty_outbox() -> None:
    if not OUTBOX.is_dir():
        return
    for path in OUTBOX.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def take_outbox() -> list[dict[str, str]]:
    """The files the call left in the outbox (regular files at its top level), then empty it."""
    try:
        if not OUTBOX.is_dir():
            return []
        found = sorted(p for p in OUTBOX.iterdir() if p.is_file() and not p.is_symlink())
        if len(found) > OUTBOX_MAX_FILES:
            raise ValueError(
                f"the skill left {len(found)} files in /outbox; at most {OUTBOX_MAX_FILES} go back"
            )
        if sum(p.stat().st_size for p in found) > OUTBOX_MAX_BYTES:
            raise ValueError(f"the files in /outbox come to more than {OUTBOX_MAX_BYTES // 2**20} MB")
        return [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in found]
    finally:
        empty_outbox()


def open_workspace() -> None:
    """Let Hearth's own user read what the call left in the workspace (backups copy it): files
    become readable by all, folders readable and searchable. Only modes change; links are not
    followed, and whatever this user does not own is left as it is."""
    if not WORKSPACE.is_dir():
        return
    for directory, folders, files in os.walk(WORKSPACE):
        for name, bits in [*((f, 0o055) for f in folders), *((f, 0o044) for f in files)]:
            path = os.path.join(directory, name)
            with contextlib.suppress(OSError):
                mode = os.lstat(path).st_mode
                if (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) and mode & bits != bits:
                    os.chmod(path, stat.S_IMODE(mode) | bits)


def run_skill(name: str, args: dict[str, Any], cache: dict[str, ModuleType], call_key: str = "") -> Any:
    """Run one skill call with its printed output kept off the protocol channel."""
    allowed = os.environ.get("HEARTH_SKILL")
    if allowed and name != allowed:
        raise PermissionError(f"this worker serves only {allowed!r}")
    module = load_skill(name, cache)
    printed = CappedBuffer(PRINTED_LIMIT_CHARS)
    try:
        with contextlib.redirect_stdout(printed):
            return module.run(args, context_for(name, call_key))
    finally:
        open_workspace()
        if printed.kept:
            sys.stderr.write(f"[{name} printed] {printed.getvalue()}\n")


def handle(line: str, cache: dict[str, ModuleType]) -> dict[str, Any]:
    """Turn one request line into one response; every failure becomes `ok: false`."""
    request_id: Any = None
    try:
        request = json.loads(line)
        request_id = request["id"]
        args = dict(request.get("args") or {})
        result = run_skill(str(request["skill"]), args, cache, str(request.get("key") or ""))
        json.dumps(result)
        files = take_outbox()
    except (Exception, SystemExit) as exc:
        empty_outbox()
        message = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT_CHARS]
        return {"id": request_id, "ok": False, "error": message}
    response = {"id": request_id, "ok": True, "result": result}
    if files:
        response["files"] = files
    return response


READY_ID = "ready"


def announce(channel: TextIO, cache: dict[str, ModuleType]) -> None:
    """Load this worker's skill, then say so: the host starts a call's clock only after this line,
    so a slow start never eats into a skill's time limit. A skill that fails to load says why."""
    response: dict[str, Any] = {"id": READY_ID, "ok": True, "result": ""}
    skill = os.environ.get("HEARTH_SKILL")
    if skill:
        try:
            load_skill(skill, cache)
        except (Exception, SystemExit) as exc:
            response = {"id": READY_ID, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    channel.write(json.dumps(response) + "\n")
    channel.flush()


def main() -> None:
    channel = open_protocol_channel()
    cache: dict[str, ModuleType] = {}
    announce(channel, cache)
    for line in sys.stdin:
        if not line.strip():
            continue
        response = handle(line, cache)
        channel.write(json.dumps(response, ensure_ascii=False) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
