"""The chat's notes, kept as one JSON file in its workspace."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOTES_FILE = "notes.json"


def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    notes: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return notes


def save(path: Path, notes: list[dict[str, Any]]) -> None:
    # Write then rename, so a killed call never leaves half a file.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(notes, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def show(notes: list[dict[str, Any]], empty: str) -> str:
    return "\n".join(f"{note['id']}. {note['text']}" for note in notes) or empty


def required(args: dict[str, Any], key: str) -> Any:
    if key not in args:
        raise ValueError(f"this action needs `{key}`")
    return args[key]


def add(path: Path, notes: list[dict[str, Any]], text: str, call_key: str) -> str:
    """Save a note once per tool call: a replayed call finds the note it saved before."""
    for note in notes:
        if call_key and note.get("key") == call_key:
            return f"Saved note {note['id']}."
    note_id = max((n["id"] for n in notes), default=0) + 1
    added_at = datetime.now(UTC).isoformat(timespec="seconds")
    notes.append({"id": note_id, "text": text, "added_at": added_at, "key": call_key})
    save(path, notes)
    return f"Saved note {note_id}."


def run(args: dict[str, Any], ctx: dict[str, Any]) -> str:
    """Add, list, search or delete a note; raises when the workspace or a field is missing."""
    if not ctx.get("workspace"):
        raise RuntimeError("notes need the chat's workspace")
    path = Path(ctx["workspace"]) / NOTES_FILE
    notes = load(path)
    action = args["action"]
    if action == "list":
        return show(notes, "There are no notes yet.")
    if action == "search":
        query = str(required(args, "query")).casefold()
        return show([n for n in notes if query in n["text"].casefold()], "No note matches.")
    if action == "add":
        return add(path, notes, required(args, "text"), ctx.get("call_key") or "")
    note_id = required(args, "id")
    kept = [n for n in notes if n["id"] != note_id]
    if len(kept) == len(notes):
        raise LookupError(f"there is no note {note_id}")
    save(path, kept)
    return f"Deleted note {note_id}."
