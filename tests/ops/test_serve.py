"""`hearth serve` as a process: started before Ollama it waits for it, and SIGTERM with a turn stuck
in the model exits within the drain time and loses nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import AUTH
from tests.fakes.ollama import FakeOllama, Step
from tests.process import Server, free_port, hearth_env

DRAIN_S = 2.0


async def post(server: Server, chat: str, text: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.url}/v1/messages", json={"chat": chat, "text": text}, headers=AUTH) as r,
    ):
        assert r.status == 202
        message_id: str = (await r.json())["id"]
        return message_id


async def view(server: Server, message_id: str, wait_s: float = 20) -> dict[str, Any]:
    url = f"{server.url}/v1/messages/{message_id}?wait={wait_s}"
    async with aiohttp.ClientSession() as http, http.get(url, headers=AUTH) as r:
        found: dict[str, Any] = await r.json()
        return found


async def ready(server: Server) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/readyz") as r:
        return r.status


@pytest.mark.timeout(90)
async def test_started_before_ollama_it_answers_once_ollama_is_up(tmp_path: Path) -> None:
    port = free_port()
    env = hearth_env(tmp_path / "data", f"http://127.0.0.1:{port}", HEARTH_MODEL_CONNECT_TIMEOUT_S="1")
    server = Server(env, tmp_path)
    await server.start()
    try:
        assert await ready(server) == 503
        message_id = await post(server, "early", "are you up?")
        assert (await view(server, message_id, wait_s=0.5))["status"] == "accepted"
        async with FakeOllama(models={"qwen3:4b": ["completion", "tools", "thinking"]}) as fake:
            await fake.close()
            await fake.start(port=port)
            found = await view(server, message_id)
            assert await ready(server) == 200
    finally:
        assert await server.stop() == 0
    assert found["status"] == "handled"
    assert [r["text"] for r in found["replies"]] == ["echo: are you up?"]
    # What the model can do is learnt once Ollama answers: this one thinks, so it is told not to.
    assert [r.get("think") for r in fake.chat_requests] == [False]


@pytest.mark.timeout(90)
async def test_sigterm_with_a_turn_stuck_in_the_model_exits_in_the_drain_time(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        env = hearth_env(tmp_path / "data", fake.url, HEARTH_DRAIN_TIMEOUT_S=str(DRAIN_S))
        fake.push(Step(content="never arrives", delay_s=60))
        server = Server(env, tmp_path)
        await server.start()
        message_id = await post(server, "stuck", "hello")
        # Someone is also waiting on the answer: the open request must not hold the exit either.
        waiting = asyncio.create_task(view(server, message_id, wait_s=30))
        while fake.in_flight == 0:
            await asyncio.sleep(0.01)
        began = time.monotonic()
        assert await server.stop() == 0
        took_s = time.monotonic() - began
        await asyncio.gather(waiting, return_exceptions=True)

        server = Server(env, tmp_path)
        await server.start()
        try:
            found = await view(server, message_id)
        finally:
            assert await server.stop() == 0
    # The drain time, plus the moments a Python process takes to wind down on a busy machine.
    assert took_s < DRAIN_S + 1.5, took_s
    assert found["status"] == "handled"
    assert [r["text"] for r in found["replies"]] == ["echo: hello"]
