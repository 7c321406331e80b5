"""Results as text: binary content described, never inlined; size-capped; fenced as untrusted."""

from __future__ import annotations

import base64

import mcp_types

from assistant.mcp.results import render, result_text


def test_every_block_kind_becomes_text() -> None:
    result = mcp_types.CallToolResult(
        content=[
            mcp_types.TextContent(type="text", text="Kitchen: 21 °C"),
            mcp_types.ImageContent(
                type="image", data=base64.b64encode(b"x" * 300).decode(), mime_type="image/png"
            ),
            mcp_types.ResourceLink(type="resource_link", uri="file:///a.txt", name="a.txt"),
            mcp_types.EmbeddedResource(
                type="resource",
                resource=mcp_types.TextResourceContents(uri="file:///b.txt", text="inside"),
            ),
        ]
    )
    assert result_text(result).splitlines() == [
        "Kitchen: 21 °C",
        "[image image/png, 300 bytes, not shown]",
        "[link a.txt: file:///a.txt]",
        "[file:///b.txt]",
        "inside",
    ]


def test_structured_content_stands_in_for_missing_blocks() -> None:
    result = mcp_types.CallToolResult(content=[], structured_content={"temperature": 21})
    assert result_text(result) == '{"temperature": 21}'
    assert result_text(mcp_types.CallToolResult(content=[])) == "(no content)"


def test_a_flood_is_cut() -> None:
    result = mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text="x" * 50_000)])
    text = render("mcp:kit/flood", result)
    assert len(text) < 6_300
    assert text.endswith("\n[… cut: 44000 more characters]")
