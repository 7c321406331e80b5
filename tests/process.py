"""Running a real `hearth` process for tests that need one: crash, shutdown and CLI tests."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp

from tests.conftest import TOKEN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def hearth_env(data_dir: Path, ollama_url: str, **extra: str) -> dict[str, str]:
    """The environment for a `hearth` subprocess; no .env file is read from the test's directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update(
        HEARTH_DATA_DIR=str(data_dir),
        HEARTH_OLLAMA_URL=ollama_url,
        HEARTH_API_TOKEN=TOKEN,
        HEARTH_MODEL_RETRY_S="0.2",
        HEARTH_LOG_LEVEL="warning",
        HEARTH_SKILLS_DIR=str(data_dir / "no-skills"),
    )
    env.update(extra)
    return env


async def run_hearth(
    *args: str, env: dict[str, str], cwd: Path, stdin: bytes = b"", timeout_s: float = 30
) -> tuple[int, str, str]:
    """Run `hearth ARGS` to completion; return its exit code, stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "assistant",
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout_s)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


class Server:
    """`hearth serve` as a child process on a free loopback port."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.env = {**env, "HEARTH_PORT": str(self.port), "HEARTH_HOST": "127.0.0.1"}
        self.cwd = cwd
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        # The server's log goes to a file: a pipe nobody reads would fill up and block it.
        self.log_path = cwd / f"hearth-{self.port}.log"
        self.log = self.log_path.open("ab")

    async def start(self, ready_timeout_s: float = 20) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "assistant",
            "serve",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self.log,
        )
        async with asyncio.timeout(ready_timeout_s), aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)

    async def logged(self, text: str, timeout_s: float = 20) -> None:
        """Wait until the server's log holds `text`."""
        async with asyncio.timeout(timeout_s):
            while text not in self.log_path.read_text(errors="replace"):
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()
        self.log.close()

    async def stop(self, timeout_s: float = 20) -> int:
        """SIGTERM, then wait for the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.terminate()
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout_s)
        finally:
            self.log.close()
