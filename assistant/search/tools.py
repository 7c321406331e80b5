"""The `web_search` tool: the top results of a SearXNG query, handed to the model as untrusted data."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from assistant.agent.tools import ToolContext, ToolError
from assistant.agent.traits import SEARCH
from assistant.search.searxng import Found, SearchFailed, SearxngClient

logger = logging.getLogger(__name__)

NAME = "web_search"
QUERY_CHARS = 400


def render(found: Found) -> str:
    """What the model reads: the results as JSON (the registry wraps them as untrusted data)."""
    body: dict[str, Any] = {
        "query": found.query,
        "results": [{"title": r.title, "url": r.url, "snippet": r.snippet} for r in found.results],
    }
    if found.answers:
        body["answers"] = found.answers
    if not found.results and not found.answers:
        body["note"] = "no results; try other words"
    return json.dumps(body, ensure_ascii=False)


class WebSearch:
    """Search the web through the owner's SearXNG."""

    name = NAME
    description = "Search the web; gives titles, addresses and snippets of the top results."
    parameters: Mapping[str, Any] = {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "what to search for"}},
        "required": ["query"],
    }
    traits = SEARCH
    effect, untrusted = SEARCH.effect, SEARCH.untrusted_output  # as the trust policy reads them

    def __init__(self, client: SearxngClient, limit: int) -> None:
        self.client = client
        self.limit = limit

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        query = args.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError('give "query": the words to search for')
        try:
            found = await self.client.search(" ".join(query.split())[:QUERY_CHARS], self.limit)
        except SearchFailed as exc:
            logger.warning("web search failed: %s", exc)
            raise ToolError(f"web search failed: {exc}") from None
        return render(found)
