"""An MCP server's tools as Hearth offers them: `NAME__tool`, a short clean description, a compact
schema, traits from the annotations, and a fingerprint that changes when any of it changes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mcp_types

from assistant.access.content import clean
from assistant.agent.traits import Traits
from assistant.mcp.config import TOOL_NAME, ServerConfig
from assistant.sandbox.arguments import schema_problem

SEPARATOR = "__"
DESCRIPTION_CHARS = 160
PROPERTY_DESCRIPTION_CHARS = 80
SCHEMA_CHARS = 2_000
MAX_TOOLS = 64
# Keys of a JSON Schema that cost characters in every request and tell a small model nothing.
NOISE_KEYS = frozenset({"title", "$schema", "examples", "$comment"})
NO_PARAMETERS: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class ToolSpec:
    """One MCP tool as the model sees it (`name`, `description`, `parameters`) and as the server
    knows it (`tool`), with what the trust policy needs (`traits`)."""

    server: str
    tool: str
    name: str
    description: str
    parameters: Mapping[str, Any]
    traits: Traits
    fingerprint: str


def tool_traits(annotations: mcp_types.ToolAnnotations | None) -> Traits:
    """The spec's defaults: not read-only unless it says so, and destructive unless it says not.
    Annotations come from the server, so they can only make a tool more cautious, never exempt it
    from the person's approval beyond what read-only allows."""
    read_only = bool(annotations and annotations.read_only_hint)
    destructive = not read_only and (annotations is None or annotations.destructive_hint is not False)
    return Traits(effect=not read_only, untrusted_output=True, always_ask=destructive)


def fingerprint(tool: mcp_types.Tool) -> str:
    """A hash of everything the model or the policy reads about the tool, before any cutting."""
    seen = {
        "name": tool.name,
        "description": tool.description or "",
        "input": tool.input_schema,
        "annotations": tool.annotations.model_dump(exclude_none=True) if tool.annotations else {},
    }
    return hashlib.sha256(json.dumps(seen, sort_keys=True, default=str).encode()).hexdigest()[:16]


def short(text: str, limit: int) -> str:
    """The first paragraph of `text`, cleaned, on one line, cut at a word to `limit` characters."""
    first = clean(text).strip().split("\n\n")[0]
    line = " ".join(first.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0] + "…"


def compact(schema: Any) -> Any:
    """The schema without titles and examples, with descriptions cut short."""
    if isinstance(schema, list):
        return [compact(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in NOISE_KEYS and not isinstance(value, dict):
            continue
        if key == "description" and isinstance(value, str):
            out[key] = short(value, PROPERTY_DESCRIPTION_CHARS)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: compact(prop) for name, prop in value.items()}
        else:
            out[key] = compact(value)
    return out


def parameters(tool: mcp_types.Tool) -> Mapping[str, Any]:
    """The input schema as offered; one too large to send is refused (ValueError)."""
    schema: dict[str, Any] = compact(tool.input_schema) if isinstance(tool.input_schema, dict) else {}
    if schema.get("type") != "object":
        schema = {**NO_PARAMETERS, **schema, "type": "object"}
    if len(json.dumps(schema)) > SCHEMA_CHARS:
        raise ValueError(f"its input schema is over {SCHEMA_CHARS} characters")
    problem = schema_problem(schema)
    if problem:
        raise ValueError(f"its input schema {problem[:120]}")
    return schema


def to_spec(server: ServerConfig, tool: mcp_types.Tool) -> ToolSpec:
    """One tool as offered; ValueError when its name or schema cannot be offered."""
    if not TOOL_NAME.fullmatch(tool.name):
        raise ValueError("its name has characters a tool name cannot have")
    description = short(tool.description or tool.title or tool.name, DESCRIPTION_CHARS)
    return ToolSpec(
        server=server.name,
        tool=tool.name,
        name=f"{server.name}{SEPARATOR}{tool.name}",
        description=description,
        parameters=parameters(tool),
        traits=tool_traits(tool.annotations),
        fingerprint=fingerprint(tool),
    )


@dataclass(frozen=True)
class Listing:
    """A server's tools that can be offered, and one line per tool left out."""

    specs: list[ToolSpec]
    skipped: list[str]


def catalog(server: ServerConfig, tools: Sequence[mcp_types.Tool]) -> Listing:
    """The tools `include`/`exclude` let through, as specs; at most MAX_TOOLS."""
    specs: list[ToolSpec] = []
    skipped: list[str] = []
    for tool in tools:
        if not server.offers(tool.name):
            continue
        if len(specs) == MAX_TOOLS:
            skipped.append(f"{tool.name}: more than {MAX_TOOLS} tools")
            continue
        try:
            specs.append(to_spec(server, tool))
        except ValueError as exc:
            skipped.append(f"{tool.name[:60]}: {exc}")
    return Listing(specs, skipped)
