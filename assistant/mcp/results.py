"""A tool call's result as text the model reads: text blocks as they are, other blocks described,
the whole cut to a size, and fenced as untrusted data."""

from __future__ import annotations

import base64
import binascii
import json

import mcp_types

RESULT_CHARS = 6_000


def _size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data)


def block_text(block: mcp_types.ContentBlock) -> str:
    """One content block as text; binary content is described, never inlined."""
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        kind = "image" if isinstance(block, mcp_types.ImageContent) else "audio"
        return f"[{kind} {block.mime_type}, {_size(block.data)} bytes, not shown]"
    if isinstance(block, mcp_types.ResourceLink):
        return f"[link {block.name}: {block.uri}]"
    if isinstance(block, mcp_types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, mcp_types.TextResourceContents):
            return f"[{resource.uri}]\n{resource.text}"
        return f"[{resource.uri}: {resource.mime_type or 'binary'} content, not shown]"
    return f"[{type(block).__name__} content, not shown]"


def result_text(result: mcp_types.CallToolResult, limit: int = RESULT_CHARS) -> str:
    """The text of every block (or the structured content when there is no block), cut to `limit`."""
    parts = [block_text(block) for block in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(parts) or "(no content)"
    if len(text) > limit:
        text = text[:limit] + f"\n[… cut: {len(text) - limit} more characters]"
    return text


def render(source: str, result: mcp_types.CallToolResult) -> str:
    """What the model reads for a successful call (the registry wraps it as untrusted data)."""
    return result_text(result)
