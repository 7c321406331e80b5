"""Ollama's streaming /api/chat, spoken over aiohttp: the one model call every turn makes.

The `ollama` package stays for what is done now and then (show, list, pull). A chat call through it
validated every message of the history into a pydantic model and dumped it back before httpx sent
it, which cost several times what the call itself does on a local server; here the request is the
JSON Ollama documents, written once, and the answer is read line by line as it streams.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

import aiohttp

from assistant.agent import specjson
from assistant.errors import ModelMissing, ModelUnavailable, ServerFailing


@dataclass(frozen=True)
class ChatRequest:
    """The body of one /api/chat call, less the messages and tools."""

    model: str
    num_ctx: int
    keep_alive: str | float
    think: bool | None = None


def headers() -> dict[str, str]:
    """What every call of a session sends; a key in OLLAMA_API_KEY is sent as the `ollama` package
    sends it (read when the session is made, as the package reads it when its client is)."""
    found = {"Content-Type": "application/json", "Accept": "application/x-ndjson", "User-Agent": "hearth"}
    key = os.environ.get("OLLAMA_API_KEY")
    if key:
        found["Authorization"] = f"Bearer {key}"
    return found


def body(
    request: ChatRequest, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
) -> bytes:
    """The request as Ollama reads it; a message's empty fields are left out, as Ollama expects."""
    sent: dict[str, Any] = {
        "model": request.model,
        "stream": True,
        "options": {"num_ctx": request.num_ctx},
        "keep_alive": request.keep_alive,
    }
    if request.think is not None:
        sent["think"] = request.think
    text = json.dumps(sent, ensure_ascii=False, separators=(",", ":"))
    # The object's closing brace moves behind the messages and the tools, written apart (below).
    text = f'{text[:-1]},"messages":[{",".join(_message(m) for m in messages)}]'
    if tools:  # each spec's text is made once (see specjson)
        text += f',"tools":{specjson.compact(tools)}'
    return (text + "}").encode()


def _message(message: Mapping[str, Any]) -> str:
    """One message as JSON, its empty fields left out. Most are a role and a text, written here
    directly: half the time of building a dict of the fields to keep and dumping it."""
    role, content = message.get("role"), message.get("content")
    if len(message) == 2 and type(role) is str and type(content) is str and role and content:
        return f'{{"role":{encode_basestring(role)},"content":{encode_basestring(content)}}}'
    kept = {k: v for k, v in message.items() if v}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def refusal(status: int, text: str, model: str) -> ModelUnavailable | ModelMissing:
    """The error for an answer other than 200: Ollama's `{"error": ...}` when it sent one."""
    if status == 404:
        return ModelMissing(model)
    try:
        said = json.loads(text).get("error") or text
    except (ValueError, AttributeError):
        said = text
    message = f"ollama answered {status}: {said}"
    return ServerFailing(message) if status >= 500 else ModelUnavailable(message)


async def chunks(
    session: aiohttp.ClientSession, url: str, data: bytes, model: str
) -> AsyncGenerator[dict[str, Any], None]:
    """Each chunk of the streamed answer, as Ollama sent it, to the end of the body; `session` sends
    `headers()`. An `error` chunk raises ServerFailing; a line that is not JSON raises
    json.JSONDecodeError."""
    async with session.post(f"{url}/api/chat", data=data) as response:
        if response.status != 200:
            raise refusal(response.status, await response.text(errors="replace"), model)
        async for raw in response.content:
            line = raw.strip()
            if not line:
                continue
            part = json.loads(line)
            if not isinstance(part, dict):
                raise ValueError(f"a chunk of the answer is not an object: {line[:80]!r}")
            if part.get("error"):
                raise ServerFailing(f"ollama said: {part['error']}")
            yield part
