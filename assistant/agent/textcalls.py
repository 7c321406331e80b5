"""Recognise a tool call that a small model wrote as JSON in its answer instead of calling the tool."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from assistant.types import ToolCall

_FENCES = re.compile(r"^\s*(?:<tool_call>|```(?:json)?)\s*(.*?)\s*(?:</tool_call>|```)?\s*$", re.S)


def _call_from(obj: Any, known: Collection[str]) -> ToolCall | None:
    if not isinstance(obj, Mapping):
        return None
    if isinstance(obj.get("function"), Mapping):
        obj = obj["function"]
    name = obj.get("name") or obj.get("tool")
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return None
    if not isinstance(name, str) or name not in known or not isinstance(args, Mapping):
        return None
    return ToolCall(name, dict(args))


def parse_text_call(content: str, known: Collection[str]) -> ToolCall | None:
    """The call when the whole answer is one JSON tool call naming a known tool, else None."""
    match = _FENCES.match(content)
    body = match.group(1) if match else content.strip()
    if not body.startswith("{"):
        return None
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return _call_from(obj, known)
