"""Tool-spec characters per request with every tool of this build on: the built-ins, teams, the skills,
web search and two MCP servers (the test server, twice, over HTTP on loopback), through the real app
against the fake Ollama and a fake SearXNG.

Run: .venv/bin/python -m tests.bench.prompt [--max-chars 4800]
Each request is one line (turn, request, spec characters, tools, same as the request before?); the
last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from assistant.app import create_app
from assistant.keys import TOOLS
from assistant.settings import SKILLS_DIR, Secret, Settings
from tests.api import send, wait_handled
from tests.conftest import TOKEN
from tests.fakes.ollama import FakeOllama
from tests.fakes.searxng import SearxngFake
from tests.mcp.conftest import HttpServer

CONVERSATION = [
    "Good morning!",
    "Remind me at 8 to call Mum.",
    "Search the web for the ferry timetable to Cacilhas.",
    "Thanks, that helps.",
    'call:more_tools {"kind": "home"}',
    "What time is it in Tokyo?",
    "Keep a note: buy milk.",
    "Great, thank you!",
]


def spec_chars(body: dict[str, Any]) -> int:
    return len(json.dumps(body.get("tools") or []))


async def run(max_chars: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        home, garden = HttpServer(data / "home.log"), HttpServer(data / "garden.log")
        await home.start()
        await garden.start()
        config = f'[servers.home]\nurl = "{home.url}"\n\n[servers.garden]\nurl = "{garden.url}"\n'
        (data / "mcp.toml").write_text(config)
        try:
            async with FakeOllama() as fake, SearxngFake() as searxng:
                settings = Settings(
                    data_dir=data,
                    database_url=f"sqlite:///{data / 'hearth.db'}",
                    ollama_url=fake.url,
                    api_token=Secret(TOKEN),
                    skills_dir=SKILLS_DIR,
                    worker_image="hearth-worker:not-needed-for-specs",
                    search_url=searxng.url,
                    tool_specs_max_chars=max_chars,
                )
                app = create_app(settings)
                client = TestClient(TestServer(app))
                await client.start_server()
                try:
                    async with asyncio.timeout(30):
                        while not {"home__echo", "garden__echo"} <= set(app[TOOLS].names()):
                            await asyncio.sleep(0.05)
                    everything = len(json.dumps(app[TOOLS].specs()))
                    count = len(app[TOOLS])
                    turns: list[int] = []
                    for turn, text in enumerate(CONVERSATION, start=1):
                        await wait_handled(client, await send(client, "bench", text), wait_s=20)
                        turns += [turn] * (len(fake.chat_requests) - len(turns))
                finally:
                    await client.close()
        finally:
            await home.stop()
            await garden.stop()
    rows: list[dict[str, Any]] = []
    previous: list[str] = []
    for index, (turn, body) in enumerate(zip(turns, fake.chat_requests, strict=True), start=1):
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        row: dict[str, Any] = {"turn": turn, "request": index, "chars": spec_chars(body), "tools": len(tools)}
        row["same_as_before"] = index > 1 and tools == previous
        if index > 1 and tools != previous:
            row["added"] = sorted(set(tools) - set(previous))
            row["removed"] = sorted(set(previous) - set(tools))
        rows.append(row)
        previous = tools
    for row in rows:
        print(json.dumps(row))
    return {
        "tools_registered": count,
        "all_specs_chars": everything,
        "limit_chars": max_chars,
        "max_chars_per_request": max(r["chars"] for r in rows),
        "requests": len(rows),
        "requests_changing_the_specs": sum(not r["same_as_before"] for r in rows[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-chars", type=int, default=Settings().tool_specs_max_chars)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.max_chars))))


if __name__ == "__main__":
    main()
