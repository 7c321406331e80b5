"""The `hearth` command as a person runs it: serve and its shutdown, chat, doctor, pull, and how each
fails: one clear line and a non-zero exit, a traceback only with --debug."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from assistant.agent.cli import bar
from tests.conftest import AUTH
from tests.fakes.ollama import FakeOllama
from tests.process import Server, hearth_env, run_hearth


@pytest.mark.timeout(60)
async def test_sigterm_lets_the_running_turn_finish(tmp_path: Path) -> None:
    async with FakeOllama(delay_s=1.0) as fake:
        server = Server(hearth_env(tmp_path / "data", fake.url), tmp_path)
        await server.start()
        async with aiohttp.ClientSession() as http:
            body = {"chat": "t", "text": "slow one"}
            async with http.post(f"{server.url}/v1/messages", json=body, headers=AUTH) as r:
                message_id = (await r.json())["id"]
            while fake.in_flight == 0:
                await asyncio.sleep(0.01)
            assert await server.stop() == 0
        server = Server(hearth_env(tmp_path / "data", fake.url), tmp_path)
        await server.start()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.url}/v1/messages/{message_id}", headers=AUTH) as r,
        ):
            view = await r.json()
        await server.stop()
    assert view["status"] == "handled"
    assert len(fake.chat_requests) == 1


async def test_chat_keeps_history_between_runs(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        env = hearth_env(tmp_path / "data", fake.url)
        code, out, err = await run_hearth("chat", env=env, cwd=tmp_path, stdin=b"my name is Ada\n")
        assert code == 0, err
        assert "hearth> echo: my name is Ada" in out
        code, out, err = await run_hearth("chat", env=env, cwd=tmp_path, stdin=b"who am I?\n")
        assert code == 0, err
        assert "hearth> echo: who am I?" in out
        assert "INFO" not in out + err
        assert "WARNING" not in out + err
    assert (tmp_path / "data" / "chat.log").exists()
    contents = [m["content"] for m in fake.chat_requests[-1]["messages"]]
    assert "my name is Ada" in contents


async def test_a_second_process_on_the_same_data_is_refused(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        env = hearth_env(tmp_path / "data", fake.url)
        server = Server(env, tmp_path)
        await server.start()
        code, _, err = await run_hearth("chat", env=env, cwd=tmp_path)
        await server.stop()
    assert code == 1
    assert "already running" in err


async def test_doctor_passes_with_a_healthy_setup(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        code, out, _ = await run_hearth("doctor", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
    assert code == 0, out
    assert "[ok  ] model: qwen3:4b is available" in out
    assert "[ok  ] tools" in out


async def test_doctor_shows_replies_waiting_for_a_channel_that_is_not_there(tmp_path: Path) -> None:
    from assistant.store import Store
    from tests.delivery import Clock, hold_replies_in

    store = await Store.open(f"sqlite:///{tmp_path / 'hearth.db'}")
    try:
        await hold_replies_in(store, "whatsapp", 2, Clock()())
        await hold_replies_in(store, "console", 3, Clock()())
    finally:
        await store.close()
    async with FakeOllama() as fake:
        code, out, _ = await run_hearth("doctor", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
    assert code == 1
    assert "[FAIL] outbox: 2 replies wait for the whatsapp channel, which is not configured" in out
    assert "fix: configure whatsapp again; otherwise they fail 86400 s after they were written" in out
    assert "[ok  ] outbox: 3 replies to terminal chats print when `hearth chat` runs" in out


async def test_doctor_never_prints_the_database_password(tmp_path: Path) -> None:
    # A server that does not answer, and (in CI) one that does and trusts any password; a
    # database of its own there, as the doctor migrates what it opens.
    urls = ["postgresql+psycopg://hearth:s3cret-pw@127.0.0.1:9/hearth"]
    with throwaway_database() as url:
        if url:
            urls.append(url.replace("://hearth@", "://hearth:s3cret-pw@"))
        await doctor_masks(tmp_path, urls)


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh database on the test server, or "" without one."""
    if not os.environ.get("HEARTH_TEST_POSTGRES_URL", ""):
        yield ""
        return
    from tests.postgres import fresh_database

    with fresh_database() as url:
        yield url


async def doctor_masks(tmp_path: Path, urls: list[str]) -> None:
    async with FakeOllama() as fake:
        for url in urls:
            env = hearth_env(tmp_path, fake.url, HEARTH_DATABASE_URL=url)
            _, out, err = await run_hearth("doctor", env=env, cwd=tmp_path)
            assert "s3cret-pw" not in out + err
            assert "database: postgresql+psycopg://hearth:**********@" in out or "[FAIL] database" in out


async def test_doctor_names_what_is_wrong_in_the_policy(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text("[member]\nteams = 'yes'\n")
    async with FakeOllama() as fake:
        code, out, _ = await run_hearth("doctor", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
        serve = await run_hearth("serve", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
    assert code == 1
    assert f"[FAIL] policy: {tmp_path / 'policy.toml'}: role 'member': teams: must be true or false" in out
    assert serve[0] == 1
    assert "role 'member': teams: must be true or false" in serve[2]


async def test_doctor_says_how_to_fix_a_missing_model(tmp_path: Path) -> None:
    async with FakeOllama(models={"llama3.2": ["completion", "tools"]}) as fake:
        code, out, _ = await run_hearth("doctor", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
    assert code == 1
    assert "fix: run `hearth pull`" in out


async def test_doctor_says_when_ollama_is_unreachable(tmp_path: Path) -> None:
    env = hearth_env(tmp_path, "http://127.0.0.1:9", HEARTH_MODEL_CONNECT_TIMEOUT_S="1")
    code, out, _ = await run_hearth("doctor", env=env, cwd=tmp_path)
    assert code == 1
    assert "start Ollama" in out


async def test_doctor_never_prints_an_ollama_password(tmp_path: Path) -> None:
    async with FakeOllama() as fake:
        behind = fake.url.replace("http://", "http://gpu:pa55word@")
        env = hearth_env(tmp_path, f"http://127.0.0.1:9,{behind}", HEARTH_MODEL_CONNECT_TIMEOUT_S="1")
        _, out, err = await run_hearth("doctor", env=env, cwd=tmp_path)
    assert "pa55word" not in out + err
    assert "http://gpu:**********@127.0.0.1" in out


async def test_serve_refuses_to_start_without_the_model(tmp_path: Path) -> None:
    async with FakeOllama(models={}) as fake:
        code, _, err = await run_hearth("serve", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
    assert code == 1
    assert "run `hearth pull`" in err
    assert "Traceback" not in err


async def test_pull_fetches_the_model(tmp_path: Path) -> None:
    async with FakeOllama(models={}) as fake:
        code, out, _ = await run_hearth("pull", env=hearth_env(tmp_path, fake.url), cwd=tmp_path)
    assert code == 0
    assert fake.pulled == ["qwen3:4b"]
    assert "100%" in out
    assert "qwen3:4b is ready" in out


async def test_a_bad_setting_stops_with_its_name(tmp_path: Path) -> None:
    env = hearth_env(tmp_path, "http://127.0.0.1:9", HEARTH_PORT="eighty")
    code, _, err = await run_hearth("serve", env=env, cwd=tmp_path)
    assert code == 2
    assert "HEARTH_PORT" in err


@pytest.mark.parametrize(
    ("completed", "total", "shown"),
    [(None, None, "pulling manifest"), (0, 100, "   0%"), (50, 100, "  50%"), (100, 100, " 100%")],
)
def test_the_progress_bar(completed: int | None, total: int | None, shown: str) -> None:
    assert shown in bar("pulling manifest", completed, total)


NO_OLLAMA = "http://127.0.0.1:9"


async def test_pull_with_ollama_down_says_what_to_do(tmp_path: Path) -> None:
    env = hearth_env(tmp_path, NO_OLLAMA, HEARTH_MODEL_CONNECT_TIMEOUT_S="1")
    code, _, err = await run_hearth("pull", env=env, cwd=tmp_path)
    assert code == 1
    assert err.startswith("hearth: Ollama is not answering at http://127.0.0.1:9")
    assert "ollama serve" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    env = hearth_env(tmp_path, NO_OLLAMA, HEARTH_MODEL_CONNECT_TIMEOUT_S="1")
    code, _, err = await run_hearth("--debug", "pull", env=env, cwd=tmp_path)
    assert code == 1
    assert "Traceback" in err
    code, _, err = await run_hearth("pull", env={**env, "HEARTH_LOG_LEVEL": "debug"}, cwd=tmp_path)
    assert "Traceback" in err


@asynccontextmanager
async def refusing_ollama() -> AsyncIterator[str]:
    """An Ollama-like server that answers 404 to /api/pull, as one does for an unknown model."""

    async def refuse(_request: web.Request) -> web.Response:
        return web.json_response({"error": "pull model manifest: file does not exist"}, status=404)

    app = web.Application()
    app.router.add_post("/api/pull", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_refused_pull_names_the_model_and_the_setting(tmp_path: Path) -> None:
    async with refusing_ollama() as url:
        code, _, err = await run_hearth("pull", env=hearth_env(tmp_path, url), cwd=tmp_path)
    assert code == 1
    assert "refused to pull qwen3:4b" in err
    assert "file does not exist" in err
    assert "HEARTH_MODEL" in err
    assert "Traceback" not in err


async def test_a_locked_database_is_one_line(tmp_path: Path) -> None:
    env = hearth_env(tmp_path, NO_OLLAMA)
    code, _, err = await run_hearth("jobs", "list", env=env, cwd=tmp_path)
    assert code == 0, err
    holder = sqlite3.connect(tmp_path / "hearth.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        args = ("jobs", "add", "--chat", "api:ada", "--every", "1h", "--text", "stretch")
        code, _, err = await run_hearth(*args, env=env, cwd=tmp_path)
    finally:
        holder.rollback()
        holder.close()
    assert code == 1
    assert err.startswith("hearth: the database is locked by another process")
    assert "Traceback" not in err


async def test_no_docker_engine_is_one_line(tmp_path: Path) -> None:
    env = hearth_env(tmp_path, NO_OLLAMA, DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    env.pop("HEARTH_SKILLS_DIR")
    code, _, err = await run_hearth("skills", "build", env=env, cwd=tmp_path)
    assert code == 1
    assert err.startswith("hearth: ")
    assert "Docker" in err
    assert "Traceback" not in err


async def test_a_bad_argument_says_so(tmp_path: Path) -> None:
    code, _, err = await run_hearth(
        "jobs", "cancel", "seven", env=hearth_env(tmp_path, NO_OLLAMA), cwd=tmp_path
    )
    assert code == 2
    assert "invalid int value: 'seven'" in err
