"""Web search in the application: the `web_search` tool when HEARTH_SEARCH_URL is set, and its session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from assistant.keys import SETTINGS, TOOLS
from assistant.search.searxng import SearxngClient
from assistant.search.tools import WebSearch


async def search_ctx(app: web.Application) -> AsyncIterator[None]:
    """Offer `web_search` only when a SearXNG is configured; close its HTTP session on the way out."""
    settings = app[SETTINGS]
    if not settings.search_url:
        yield
        return
    async with aiohttp.ClientSession() as session:
        client = SearxngClient(settings.search_url, settings.search_timeout_s, session)
        app[TOOLS].add(WebSearch(client, settings.search_results))
        yield
