"""A real `hearth serve` killed with SIGKILL in the middle of turns loses nothing and answers once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import AUTH
from tests.fakes.ollama import FakeOllama, Step
from tests.faults.triggers import allow, refuse
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


async def job_count(url: str) -> int:
    from sqlmodel import func, select

    from assistant.store import Store
    from assistant.store.tables import Job

    store = await Store.open(url)
    try:
        return await store.read(lambda s: s.exec(select(func.count()).select_from(Job)).one())
    finally:
        await store.close()


@pytest.mark.timeout(120)
async def test_sigkill_between_a_tools_effect_and_the_end_of_its_turn_leaves_one_job(tmp_path: Path) -> None:
    schedule = {"name": "schedule_reminder", "arguments": {"text": "water the plants", "every": "1d"}}
    async with FakeOllama() as fake:
        env = hearth_env(tmp_path / "data", fake.url)
        url = f"sqlite:///{tmp_path / 'data' / 'hearth.db'}"
        # The effect happens, then the model takes its time over the answer: the kill lands there.
        fake.push(Step(tool_calls=[schedule]), Step(content="never sent", delay_s=60))
        server = Server(env, tmp_path)
        await server.start()
        async with aiohttp.ClientSession() as http:
            body = {"chat": "ann", "text": "remind me daily to water the plants"}
            async with http.post(f"{server.url}/v1/messages", json=body, headers=AUTH) as r:
                message_id = (await r.json())["id"]
        async with asyncio.timeout(20):
            while await job_count(url) == 0 or len(fake.chat_requests) < 2:
                await asyncio.sleep(0.05)
        await server.kill()

        # Started again, the turn is replayed from the start and the model asks for the same call.
        fake.push(Step(tool_calls=[schedule]), Step(content="Done: I will remind you daily."))
        server = Server(env, tmp_path)
        await server.start()
        try:
            await wait_all_handled(server, [message_id])
            replies = await replies_of(server, "ann")
        finally:
            assert await server.stop() == 0
        requests = fake.chat_requests
    assert await job_count(url) == 1
    assert replies == ["Done: I will remind you daily."]
    # The replayed call was answered with the job the first run made, not a new one.
    assert '"id": 1' in str(requests[-1]["messages"][-1]["content"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fault", ["reply", "handled"])
async def test_a_crash_as_a_turn_commits_neither_loses_nor_repeats_its_reply(
    tmp_path: Path, fault: str
) -> None:
    """The turn's replies and its messages' "handled" mark are one commit: the database refusing
    either write, then the process dying, leaves neither, so the next start answers exactly once."""
    async with FakeOllama() as fake:
        env = hearth_env(tmp_path / "data", fake.url)
        server = Server(env, tmp_path)
        await server.start()
        refuse(tmp_path / "data" / "hearth.db", fault)
        async with aiohttp.ClientSession() as http:
            body = {"chat": "z", "text": "hello"}
            async with http.post(f"{server.url}/v1/messages", json=body, headers=AUTH) as r:
                message_id = (await r.json())["id"]
        await server.logged("failed outside the pipeline")
        await server.kill()
        allow(tmp_path / "data" / "hearth.db")

        server = Server(env, tmp_path)
        await server.start()
        try:
            await wait_all_handled(server, [message_id])
            replies = await replies_of(server, "z")
        finally:
            assert await server.stop() == 0
    assert replies == ["echo: hello"]
    assert len(fake.chat_requests) == 2
