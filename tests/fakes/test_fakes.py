"""The fake provider servers run on their own, as the compose end-to-end run starts them."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import pytest


@pytest.mark.parametrize("module", ["tests.fakes.graph", "tests.fakes.twilio", "tests.fakes.speech"])
async def test_fake_runs_standalone_and_takes_failures(module: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/_fake/fail", json=[{"status": 503}, None]) as answer:
                assert await answer.json() == [
                    {
                        "status": 503,
                        "code": None,
                        "message": "failure requested by the test",
                        "delay_s": 0.0,
                    },
                    None,
                ]
            async with session.get(f"{url}/_fake/sent") as answer:
                assert await answer.json() == []
    finally:
        process.terminate()
        await process.wait()
