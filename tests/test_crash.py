"""A real `hearth serve` killed with SIGKILL in the middle of turns loses nothing and answers once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import AUTH
from tests.fakes.ollama import FakeOllama
from tests.process import Server, hearth_env

CHATS = 5
PER_CHAT = 8


async def post_all(server: Server) -> dict[str, str]:
    """Post every message; return text -> id for those the server acknowledged."""
    accepted: dict[str, str] = {}

    async def one_chat(http: aiohttp.ClientSession, chat: str) -> None:
        for n in range(PER_CHAT):
            text = f"{chat}-{n}"
            body = {"chat": chat, "text": text}
            try:
                async with http.post(f"{server.url}/v1/messages", json=body, headers=AUTH) as r:
                    if r.status == 202:
                        accepted[text] = (await r.json())["id"]
            except aiohttp.ClientError:
                return
            await asyncio.sleep(0.02)

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(one_chat(http, f"k{c}") for c in range(CHATS)))
    return accepted


async def replies_of(server: Server, chat: str) -> list[str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/v1/chats/{chat}/messages", headers=AUTH) as r,
    ):
        entries = (await r.json())["messages"]
    return [e["text"] for e in entries if e["role"] == "assistant"]


async def wait_all_handled(server: Server, ids: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        for message_id in ids:
            url = f"{server.url}/v1/messages/{message_id}?wait=20"
            async with http.get(url, headers=AUTH) as r:
                assert (await r.json())["status"] == "handled"


@pytest.mark.timeout(120)
async def test_sigkill_mid_turn_then_restart_answers_every_message_once(tmp_path: Path) -> None:
    async with FakeOllama(delay_s=0.15) as fake:
        env = hearth_env(tmp_path / "data", fake.url)
        server = Server(env, tmp_path)
        await server.start()
        posting = asyncio.create_task(post_all(server))
        while len(fake.chat_requests) < 6:
            await asyncio.sleep(0.01)
        assert fake.in_flight > 0
        await server.kill()
        accepted = await posting
        requests_before = len(fake.chat_requests)

        server = Server(env, tmp_path)
        await server.start()
        try:
            await wait_all_handled(server, list(accepted.values()))
            answered: Counter[str] = Counter()
            for c in range(CHATS):
                for reply in await replies_of(server, f"k{c}"):
                    answered.update(reply.removeprefix("echo: ").split(" | "))
        finally:
            assert await server.stop() == 0
    assert len(accepted) >= 6
    assert len(fake.chat_requests) > requests_before
    assert set(accepted) <= set(answered)
    assert all(count == 1 for count in answered.values()), answered
