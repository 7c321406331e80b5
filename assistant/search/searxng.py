"""The SearXNG JSON API: one GET /search per query, its results cut to title, address and snippet."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from assistant.errors import HearthError

SNIPPET_CHARS = 300
TITLE_CHARS = 200
# SearXNG's bot detection, if someone turns its limiter on, refuses library user agents and requests that
# do not accept HTML (and still allows only a few API requests an hour: keep the limiter off).
HEADERS = {
    "User-Agent": "Mozilla/5.0 (compatible; Hearth/0.1; self-hosted)",
    "Accept": "application/json, text/html;q=0.5",
}


class SearchFailed(HearthError):
    """The search server did not answer usably; the message says how, for the model and the log."""


@dataclass(frozen=True)
class Result:
    title: str
    url: str
    snippet: str


@dataclass(frozen=True)
class Found:
    """One query's answer: the top results, direct answers, and engines that failed."""

    query: str
    results: list[Result]
    answers: list[str]
    unresponsive: list[str]


def _text(value: Any, limit: int) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse(body: Mapping[str, Any], query: str, limit: int) -> Found:
    """The first `limit` results that have an http(s) address; other fields are optional."""
    results = []
    for item in body.get("results") or []:
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        results.append(
            Result(_text(item.get("title"), TITLE_CHARS), url, _text(item.get("content"), SNIPPET_CHARS))
        )
        if len(results) == limit:
            break
    answers = [
        _text(a.get("answer") if isinstance(a, dict) else a, SNIPPET_CHARS) for a in body.get("answers") or []
    ]
    unresponsive = [
        str(e[0]) for e in body.get("unresponsive_engines") or [] if isinstance(e, list | tuple) and e
    ]
    return Found(query, results, [a for a in answers if a], unresponsive)


class SearxngClient:
    """Searches one SearXNG instance; `search` raises SearchFailed, never anything else."""

    def __init__(self, base_url: str, timeout_s: float, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.session = session

    async def search(self, query: str, limit: int) -> Found:
        params = {"q": query, "format": "json", "pageno": "1"}
        try:
            async with self.session.get(
                f"{self.base_url}/search", params=params, headers=HEADERS, timeout=self.timeout
            ) as response:
                if response.status != 200:
                    raise SearchFailed(_refusal(response.status))
                body = json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SearchFailed(f"the search server is not answering ({type(exc).__name__})") from exc
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SearchFailed("the search server answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise SearchFailed("the search server answered JSON of an unexpected shape")
        return parse(body, query, limit)


def _refusal(status: int) -> str:
    if status == 403:
        return "the search server refused the JSON format (enable json in its search.formats)"
    if status == 429:
        return "the search server is rate-limiting Hearth (turn its limiter off or pass Hearth's address)"
    return f"the search server answered HTTP {status}"
