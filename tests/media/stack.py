"""Hearth with its media parts switched on, against the fakes: Graph, Twilio, a speech server."""

from __future__ import annotations

import base64
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from assistant.agent.tools import ToolContext
from assistant.keys import TOOLS
from assistant.types import Attachment
from tests.fakes.ollama import FakeOllama

VISION = ["completion", "tools", "vision"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def user_messages(fake: FakeOllama) -> list[dict[str, Any]]:
    """The person's messages in the model's last request."""
    return [m for m in fake.chat_requests[-1]["messages"] if m["role"] == "user"]


def images_seen(fake: FakeOllama) -> list[bytes]:
    return [base64.b64decode(i) for m in user_messages(fake) for i in m.get("images", [])]


class AttachTool:
    """A built-in tool that attaches the files it is given to the reply, as a skill's outbox does."""

    name = "make_file"
    description = "Make a file for the person."
    parameters: Mapping[str, Any] = {"type": "object", "properties": {}}

    def __init__(self, files: Sequence[Attachment]) -> None:
        self.files = list(files)

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        ctx.files.extend(self.files)
        return "made " + ", ".join(f.name for f in self.files)


def with_tool(app: web.Application, tool: AttachTool) -> web.Application:
    app[TOOLS].add(tool)
    return app
