"""Downloads against the fake providers: caps while streaming, credentials only where they belong."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from assistant.media.download import Downloader, GraphAccess
from assistant.media.errors import Gone, TooLarge, Unreachable
from tests.fakes.graph import GraphFake
from tests.fakes.twilio import TwilioFake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def test_twilio_media_follows_the_redirect_and_keeps_the_credentials_home(
    session: aiohttp.ClientSession, twilio_api: TwilioFake
) -> None:
    url = twilio_api.add_media(b"%PDF-1.4 ...", "application/pdf")
    fetched = await Downloader(session, 1000, 5).twilio(
        url, twilio_api.account_sid, "test-auth-token", twilio_api.url
    )
    assert (fetched.data, fetched.declared) == (b"%PDF-1.4 ...", "application/pdf")
    assert not twilio_api.cdn_saw_credentials
    with pytest.raises(Unreachable, match="401"):
        await Downloader(session, 1000, 5).twilio(url, twilio_api.account_sid, "wrong", twilio_api.url)


async def test_credentials_never_go_to_a_url_outside_the_twilio_api(
    session: aiohttp.ClientSession, twilio_api: TwilioFake
) -> None:
    url = twilio_api.add_media(b"x", "text/plain")
    elsewhere = url.replace(twilio_api.url, "http://localhost:" + twilio_api.url.rsplit(":", 1)[1])
    with pytest.raises(Unreachable, match="401"):  # the API wants credentials; none went to this origin
        await Downloader(session, 1000, 5).twilio(
            elsewhere, twilio_api.account_sid, "test-auth-token", twilio_api.url
        )


async def test_a_body_over_the_cap_is_refused_while_streaming(
    session: aiohttp.ClientSession, aiohttp_server: object
) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(20):
            await response.write(b"x" * 1000)
        return response

    app = web.Application()
    app.router.add_get("/big", chunked)
    assert callable(aiohttp_server)
    server = await aiohttp_server(app)
    with pytest.raises(TooLarge):
        await Downloader(session, 5000, 5).fetch(str(server.make_url("/big")), {})


async def test_graph_media_needs_the_token_and_an_unknown_id_is_gone(
    session: aiohttp.ClientSession, graph: GraphFake
) -> None:
    media_id = graph.add_media(b"\x89PNG data", "image/png")
    good = GraphAccess(graph.url, "v26.0", "106540352242922", "test-token")
    assert (await Downloader(session, 1000, 5).whatsapp(media_id, good)).data == b"\x89PNG data"
    with pytest.raises(Gone):
        await Downloader(session, 1000, 5).whatsapp("999", good)
    with pytest.raises(Unreachable):
        await Downloader(session, 1000, 5).whatsapp(media_id, GraphAccess(graph.url, "v26.0", "1", "wrong"))
