"""Hearth stopped or killed while replies go out to a slow Graph API loses none: a send that died
with its client (the fake drops it, as the provider never had it) goes out after the restart."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from assistant.app import create_app
from assistant.settings import Settings
from tests.channels.webhooks import (
    APP_SECRET,
    GRAPH_TOKEN,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    meta_signature,
    post_whatsapp,
    until,
    wa_body,
    wa_message,
    whatsapp_settings,
)
from tests.conftest import MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.process import Server, hearth_env

CHATS = 4
PER_CHAT = 5


def words(graph: GraphFake) -> Counter[str]:
    """Each message text answered, counted once per reply that echoed it."""
    found: Counter[str] = Counter()
    for sent in graph.sent:
        found.update(sent["text"]["body"].removeprefix("echo: ").split(" | "))
    return found


async def post_all(server: Server) -> list[str]:
    """Post every message as its own signed webhook; the texts the server acknowledged."""
    accepted: list[str] = []
    async with aiohttp.ClientSession() as http:
        for n in range(PER_CHAT):
            for c in range(CHATS):
                text = f"c{c}-m{n}"
                body = wa_body(wa_message(text, wa_id=f"1555000000{c}", user_id=None))
                headers = {"X-Hub-Signature-256": meta_signature(body), "Content-Type": "application/json"}
                async with http.post(f"{server.url}/webhooks/whatsapp", data=body, headers=headers) as r:
                    if r.status == 200:
                        accepted.append(text)
    return accepted


@pytest.mark.timeout(120)
async def test_sigkill_during_delivery_then_restart_delivers_every_reply(tmp_path: Path) -> None:
    async with FakeOllama() as fake, GraphFake(token=GRAPH_TOKEN, drop_aborted=True) as graph:
        graph.delay_s = 0.15
        env = hearth_env(
            tmp_path / "data",
            fake.url,
            HEARTH_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            HEARTH_WHATSAPP_APP_SECRET=APP_SECRET,
            HEARTH_WHATSAPP_TOKEN=GRAPH_TOKEN,
            HEARTH_WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            HEARTH_WHATSAPP_API_URL=graph.url,
            HEARTH_OWNERS=",".join(f"whatsapp:+1555000000{c}" for c in range(CHATS)),
        )
        server = Server(env, tmp_path)
        await server.start()
        accepted = await post_all(server)
        while len(graph.sent) < 2:
            await asyncio.sleep(0.01)
        await server.kill()
        before = sum(words(graph).values())

        server = Server(env, tmp_path)
        await server.start()
        try:
            async with asyncio.timeout(60):
                while not set(accepted) <= set(words(graph)):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
        finally:
            assert await server.stop() == 0
    answered = words(graph)
    assert len(accepted) == CHATS * PER_CHAT
    assert before < len(accepted)
    assert set(answered) == set(accepted)
    # Only a send the provider took in the instant of the kill, before Hearth could record it,
    # may go out twice: at most one reply of each chat, once more.
    for c in range(CHATS):
        again = {text: n for text, n in answered.items() if text.startswith(f"c{c}-") and n > 1}
        assert sum(n - 1 for n in again.values()) <= 1, answered


async def test_a_send_lost_with_its_stopped_client_goes_out_after_the_restart(
    aiohttp_client: MakeClient, settings: Settings
) -> None:
    async with GraphFake(token=GRAPH_TOKEN, drop_aborted=True) as graph:
        changed = whatsapp_settings(settings, graph)
        graph.hold()
        first = await aiohttp_client(create_app(changed))
        await post_whatsapp(first, wa_body(wa_message("are you there?")))
        await until(lambda: graph.holding == 1)
        await first.close()
        await until(lambda: graph.dropped == 1)
        graph.release()
        second = await aiohttp_client(create_app(changed))
        await until(lambda: len(graph.sent) >= 1)
        await post_whatsapp(second, wa_body(wa_message("and now?")))
        await until(lambda: len(graph.sent) >= 2)
        await asyncio.sleep(0.3)
        await second.close()
    assert [s["text"]["body"] for s in graph.sent] == ["echo: are you there?", "echo: and now?"]
