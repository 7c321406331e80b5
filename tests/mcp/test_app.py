"""MCP through the running app: a tool of a remote (streamable HTTP) server and of a stdio server in
a container, called by the model end to end; /status reports each server."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.keys import TOOLS
from assistant.mcp.app import MCP
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.mcp.conftest import COMMAND, HttpServer

ASKS = {
    "plus": ("remote__add", {"a": 2, "b": 40}),
    "note": ("box__note", {"text": "buy milk"}),
    "weather": ("remote__inject", {}),
}


def assistant(body: dict[str, Any]) -> Step:
    """A model that calls the tool each question needs (asking `more_tools` for the server's kind when
    that tool is not offered), then answers with what the tool said."""
    messages = body["messages"]
    offered = {t["function"]["name"] for t in body.get("tools") or []}
    last = messages[-1]
    if last["role"] == "tool" and last.get("tool_name") != "more_tools":
        content = last["content"]
        inner = content.split("\n")[1:-1] if content.startswith("<untrusted") else [content]
        return Step(content="The tool said: " + " ".join(inner))
    question = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    for word, (name, arguments) in ASKS.items():
        if word in question:
            if name not in offered:
                return Step(tool_calls=[{"name": "more_tools", "arguments": {"kind": name.split("__")[0]}}])
            return Step(tool_calls=[{"name": name, "arguments": arguments}])
    return Step(content="I can answer that without tools.")


def write_config(data_dir: Path, url: str, image: str | None) -> None:
    text = (
        f'[servers.remote]\nurl = "{url}"\nheaders = {{ X-Hearth = "${{TEST_MCP_HEADER}}" }}\ntimeout_s = 5\n'
    )
    if image is not None:
        command = json.dumps(list(COMMAND))
        text += f'\n[servers.box]\nimage = "{image}"\ncommand = {command}\ntimeout_s = 10\n'
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "mcp.toml").write_text(text)


async def tools_listed(client: AppClient, *names: str) -> None:
    async with asyncio.timeout(30):
        while not all(name in client.app[TOOLS] for name in names):
            await asyncio.sleep(0.05)


@pytest.fixture(autouse=True)
def header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_MCP_HEADER", "from-the-environment")


async def ask(client: AppClient, text: str) -> str:
    view = await wait_handled(client, await send(client, "anna", text), wait_s=20)
    assert view["status"] == "handled"
    reply: str = view["replies"][0]["text"]
    return reply


async def test_a_remote_servers_tool_end_to_end(
    make_client: MakeClient, fake: FakeOllama, http_server: HttpServer, tmp_path: Path
) -> None:
    write_config(tmp_path, http_server.url, None)
    fake.responder = assistant
    client = await make_client()
    await tools_listed(client, "remote__add")
    assert await ask(client, "What is 2 plus 40?") == "The tool said: 42"
    first, second = ([t["function"]["name"] for t in r["tools"]] for r in fake.chat_requests[:2])
    assert "remote__add" not in first  # twelve tools do not fit beside the core ones
    assert "more_tools" in first
    assert "remote__add" in second  # asked for with more_tools
    status = await ask(client, "/status")
    assert re.search(r"- remote \(http\): ready, \d+ tools", status)


async def test_a_servers_words_reach_the_model_as_data(
    make_client: MakeClient, fake: FakeOllama, http_server: HttpServer, tmp_path: Path
) -> None:
    write_config(tmp_path, http_server.url, None)
    fake.responder = assistant
    client = await make_client()
    await tools_listed(client, "remote__inject")
    await ask(client, "What's the weather?")
    tool_message = fake.chat_requests[-1]["messages"][-1]["content"]
    assert tool_message.startswith('<untrusted source="tool remote__inject">\n')
    assert "\u202e" not in tool_message
    assert tool_message.count("</untrusted>") == 1


@pytest.mark.docker
@pytest.mark.timeout(120)
async def test_a_stdio_servers_tool_end_to_end(
    make_client: MakeClient,
    fake: FakeOllama,
    http_server: HttpServer,
    tmp_path: Path,
    mcp_image: str,
    docker_client: Any,
) -> None:
    write_config(tmp_path, http_server.url, mcp_image)
    fake.responder = assistant
    client = await make_client()
    await tools_listed(client, "box__note", "remote__add")
    assert await ask(client, "Please keep a note: buy milk") == "The tool said: kept note 1"
    assert [m["role"] for m in await transcript(client, "anna")] == ["user", "assistant"]
    status = await ask(client, "/status")
    assert re.search(r"- box \(stdio\): ready, \d+ tools", status)
    service = client.app[MCP]
    label = f"org.hearth.sandbox={service.instance}"
    assert docker_client.containers.list(filters={"label": label})
    await client.close()
    assert docker_client.containers.list(all=True, sparse=True, filters={"label": label}) == []
