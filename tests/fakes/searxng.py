"""A fake SearXNG: `GET /search?q=…&format=json` answered the way SearXNG's JSON API answers.

Documents in `index` match a query when they share a word with it; the answer has SearXNG's shape
(`query`, `results` with `url`/`title`/`content`/`engine`/`score`…, `answers`, `corrections`,
`infoboxes`, `suggestions`, `unresponsive_engines`). Like the real server: an empty `q` is 400
`{"error": "No query"}`, a format not in `formats` is 403, and with `limiter` on a library user agent
or an `Accept` without text/html gets 429.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.fakes.base import Failure, FakeServer, serve_forever

BOT_AGENTS = re.compile(r"^(curl|wget|python|Python|aiohttp|Go-http-client|Java|okhttp)", re.IGNORECASE)
_WORD = re.compile(r"\w+")

DEFAULT_INDEX: list[dict[str, Any]] = [
    {
        "title": "Lisbon weather forecast",
        "url": "https://weather.example/lisbon",
        "content": "Lisbon: sunny, 24 °C today, light wind from the north.",
    },
    {
        "title": "Lisbon - Wikipedia",
        "url": "https://en.wikipedia.example/wiki/Lisbon",
        "content": "Lisbon is the capital and largest city of Portugal.",
    },
    {
        "title": "Ferry timetable Lisbon to Cacilhas",
        "url": "https://ferries.example/cacilhas",
        "content": "Ferries leave Cais do Sodré every 20 minutes from 05:35.",
    },
    {"title": "A map tile", "url": None, "content": "results without an address are not links"},
]


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


class SearxngFake(FakeServer):
    """`queries` records each query's parameters and headers; `index` is what can be found."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, limiter: bool = False) -> None:
        super().__init__(host, port)
        self.index: list[dict[str, Any]] = [dict(d) for d in DEFAULT_INDEX]
        self.formats = ["html", "json"]
        self.limiter = limiter
        self.unresponsive: list[list[str]] = [["qwant", "timeout"]]
        self.queries: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/search", self._search)
        app.router.add_get("/", self._search)

    def error_response(self, failure: Failure) -> web.Response:
        return web.Response(status=failure.status, text=failure.message)

    def _bot(self, request: web.Request) -> bool:
        agent = request.headers.get("User-Agent", "")
        return bool(BOT_AGENTS.match(agent)) or "text/html" not in request.headers.get("Accept", "")

    async def _search(self, request: web.Request) -> web.Response:
        failure = await self.failure_or_none()
        if failure is not None:
            return failure
        query, output = request.query.get("q", ""), request.query.get("format", "html")
        self.queries.append({"params": dict(request.query), "headers": dict(request.headers)})
        if output not in self.formats:
            return web.Response(status=403, text="Forbidden")
        if self.limiter and output != "html" and self._bot(request):
            return web.Response(status=429, text="Too Many Requests")
        if not query.strip():
            return web.json_response({"error": "No query"}, status=400)
        return web.json_response(self.answer(query))

    def answer(self, query: str) -> dict[str, Any]:
        wanted = _words(query)
        results = []
        for position, doc in enumerate(self.index, start=1):
            shared = wanted & _words(f"{doc['title']} {doc['content']}")
            if shared:
                results.append(
                    {
                        **doc,
                        "engine": "duckduckgo",
                        "engines": ["duckduckgo", "brave"],
                        "score": float(len(shared)),
                        "positions": [position],
                        "category": "general",
                        "template": "default.html",
                        "publishedDate": None,
                        "thumbnail": "",
                        "priority": "",
                    }
                )
        results.sort(key=lambda r: -r["score"])
        return {
            "query": query,
            "results": results,
            "answers": [],
            "corrections": [],
            "infoboxes": [],
            "suggestions": [f"{query} today"],
            "unresponsive_engines": self.unresponsive,
        }


if __name__ == "__main__":
    serve_forever(SearxngFake, "Serve a fake SearXNG for tests and local runs.")
