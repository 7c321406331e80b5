"""The SearXNG client against the fake: results cut to what the model needs, and clear failures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from assistant.search.searxng import SearchFailed, SearxngClient, parse
from tests.fakes.base import Failure
from tests.fakes.searxng import SearxngFake


@pytest.fixture
async def searxng() -> AsyncIterator[SearxngFake]:
    async with SearxngFake() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_the_top_results_with_addresses(searxng: SearxngFake, session: aiohttp.ClientSession) -> None:
    found = await SearxngClient(searxng.url, 5, session).search("lisbon weather", 2)
    assert [r.url for r in found.results] == [
        "https://weather.example/lisbon",
        "https://en.wikipedia.example/wiki/Lisbon",
    ]
    assert found.results[0].snippet.startswith("Lisbon: sunny")
    assert found.unresponsive == ["qwant"]
    (query,) = searxng.queries
    assert query["params"] == {"q": "lisbon weather", "format": "json", "pageno": "1"}


async def test_a_result_without_an_address_is_skipped(
    searxng: SearxngFake, session: aiohttp.ClientSession
) -> None:
    found = await SearxngClient(searxng.url, 5, session).search("map tile", 5)
    assert found.results == []


async def test_the_limiter_lets_hearth_through(session: aiohttp.ClientSession) -> None:
    async with SearxngFake(limiter=True) as searxng:
        found = await SearxngClient(searxng.url, 5, session).search("ferry", 5)
        assert found.results[0].url == "https://ferries.example/cacilhas"
        async with session.get(f"{searxng.url}/search", params={"q": "ferry", "format": "json"}) as plain:
            assert plain.status == 429  # aiohttp's own user agent is refused, as SearXNG does


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("no_json", "enable json"),
        ("rate_limited", "rate-limiting"),
        ("server_error", "HTTP 502"),
        ("slow", r"not answering \(TimeoutError\)"),
    ],
)
async def test_failures_say_what_happened(
    searxng: SearxngFake, session: aiohttp.ClientSession, setup: str, words: str
) -> None:
    if setup == "no_json":
        searxng.formats = ["html"]
    elif setup == "rate_limited":
        searxng.fail(Failure(429))
    elif setup == "server_error":
        searxng.fail(Failure(502))
    else:
        searxng.delay_s = 1.0
    timeout_s = 0.2 if setup == "slow" else 5
    with pytest.raises(SearchFailed, match=words):
        await SearxngClient(searxng.url, timeout_s, session).search("lisbon", 5)


async def test_no_server_is_a_clear_failure(session: aiohttp.ClientSession) -> None:
    async with SearxngFake() as searxng:
        url = searxng.url
    with pytest.raises(SearchFailed, match="not answering"):
        await SearxngClient(url, 2, session).search("lisbon", 5)


def test_parse_takes_optional_fields_as_optional() -> None:
    body = {
        "results": [
            {"url": "https://a.example", "title": "  A\n title ", "content": None},
            "junk",
            {"url": None},
        ],
        "answers": [{"answer": "42", "url": None}],
        "unresponsive_engines": [["bing", "Suspended: too many requests"], []],
    }
    found = parse(body, "q", 5)
    assert [(r.title, r.url, r.snippet) for r in found.results] == [("A title", "https://a.example", "")]
    assert found.answers == ["42"]
    assert found.unresponsive == ["bing"]
