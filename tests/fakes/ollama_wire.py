"""Pure pieces of the fake Ollama server: scripted steps, the echo responder and wire bodies."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import string
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_MODELS: dict[str, list[str]] = {"qwen3:4b": ["completion", "tools"]}
EMBED_DIMENSIONS = 64
_CALL = re.compile(r"call:([A-Za-z_][\w.-]*)")
_WORD = re.compile(r"\w+")


@dataclass
class Step:
    """One scripted answer to one `/api/chat` request."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0
    status: int | None = None
    error: str = "boom"
    stall_after_s: float | None = None
    prompt_eval_count: int = 10
    eval_count: int = 5
    thinking: str = ""
    # Ways a stream goes wrong: it ends cleanly before its `done: true` chunk (`cut`), the
    # connection drops in the middle of the body (`drop`), a line is not JSON (`garbled`), or the
    # server gives up after the first chunk with an `{"error": ...}` line, as Ollama does when its
    # runner fails mid-answer (`failed_midway`).
    cut: bool = False
    drop: bool = False
    garbled: bool = False
    failed_midway: bool = False


Responder = Callable[[dict[str, Any]], Step | Awaitable[Step]]


def parse_tool_calls(text: str) -> list[dict[str, Any]]:
    """Every `call:NAME {json}` in `text` as `{"name", "arguments"}`; bad or no JSON gives `{}`."""
    calls: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    for match in _CALL.finditer(text):
        rest = text[match.end() :].lstrip()
        try:
            arguments, _ = decoder.raw_decode(rest) if rest.startswith("{") else ({}, 0)
        except json.JSONDecodeError:
            arguments = {}
        calls.append({"name": match.group(1), "arguments": arguments})
    return calls


def echo_responder(body: dict[str, Any]) -> Step:
    """The default answer, so a standalone fake can be driven by message text alone.

    After a tool result: `"tool said: <tool contents>"`. Otherwise, if the last user text holds
    `call:NAME {json}` (one or more), those tool calls. Otherwise `"echo: <user texts since the
    last assistant turn>"`. Several texts are joined with `" | "`.
    """
    messages: list[dict[str, Any]] = body.get("messages") or []
    last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    recent = messages[last_assistant + 1 :]
    if recent and recent[-1].get("role") == "tool":
        tools = [str(m.get("content", "")) for m in recent if m.get("role") == "tool"]
        return Step(content="tool said: " + " | ".join(tools))
    texts = [str(m.get("content", "")) for m in recent if m.get("role") == "user"]
    calls = parse_tool_calls(texts[-1]) if texts else []
    if calls:
        return Step(tool_calls=calls)
    return Step(content="echo: " + " | ".join(texts))


def now_rfc3339() -> str:
    """The current instant the way the Go server writes it (UTC, nanosecond field)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def call_id() -> str:
    """A server-style tool call id: `call_` and eight lowercase letters or digits."""
    return "call_" + "".join(random.choices(string.ascii_lowercase + string.digits, k=8))


def wire_tool_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool calls as the server sends them: with an `id` and `function.index`."""
    return [
        {"id": call_id(), "function": {"index": i, "name": c["name"], "arguments": c["arguments"]}}
        for i, c in enumerate(calls)
    ]


def split_content(content: str, parts: int = 3) -> list[str]:
    """`content` cut at word starts into at most `parts` pieces that join back to it."""
    words = re.findall(r"\s*\S+\s*$|\s*\S+", content) or [content]
    size = math.ceil(len(words) / parts)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def chat_chunk(model: str, message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One `/api/chat` object; `message` always carries `role` and `content`."""
    full = {"role": "assistant", "content": "", **message}
    return {"model": model, "created_at": now_rfc3339(), "message": full, "done": False, **extra}


def final_fields(step: Step) -> dict[str, Any]:
    """The closing fields: `done`, `done_reason` and the metrics in nanoseconds."""
    return {
        "done": True,
        "done_reason": "stop",
        "total_duration": 182_242_375,
        "load_duration": 41_295_167,
        "prompt_eval_count": step.prompt_eval_count,
        "prompt_eval_duration": 24_573_166,
        "eval_count": step.eval_count,
        "eval_duration": 115_959_084,
    }


def stream_messages(step: Step) -> Iterator[dict[str, Any]]:
    """The `message` parts of the `done:false` chunks: thinking, content pieces, then tool calls."""
    if step.thinking:
        yield {"thinking": step.thinking}
    if step.content:
        for piece in split_content(step.content):
            yield {"content": piece}
    if step.tool_calls:
        yield {"tool_calls": wire_tool_calls(step.tool_calls)}


def whole_message(step: Step) -> dict[str, Any]:
    """The single `message` of a non-streamed answer."""
    message: dict[str, Any] = {"content": step.content}
    if step.thinking:
        message["thinking"] = step.thinking
    if step.tool_calls:
        message["tool_calls"] = wire_tool_calls(step.tool_calls)
    return message


def embed(text: str, dimensions: int = EMBED_DIMENSIONS) -> list[float]:
    """A unit-length hashed bag of words, so texts sharing words point the same way."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[int.from_bytes(digest[:4], "big") % dimensions] += sign
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def digest_of(name: str) -> str:
    """A stable hex digest standing in for a model's manifest digest."""
    return hashlib.sha256(name.encode()).hexdigest()


def model_details(name: str) -> dict[str, Any]:
    """The `details` block of `/api/tags` and `/api/show`."""
    family = name.split(":")[0].rstrip("0123456789.") or name
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family,
        "families": [family],
        "parameter_size": "4.0B",
        "quantization_level": "Q4_K_M",
    }


def tag_entry(name: str, capabilities: list[str]) -> dict[str, Any]:
    """One model of `/api/tags`."""
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-11-01T10:00:00.000000000Z",
        "size": 2_019_393_189,
        "digest": digest_of(name),
        "details": model_details(name),
        "capabilities": capabilities,
    }


def show_body(name: str, capabilities: list[str]) -> dict[str, Any]:
    """The `/api/show` answer for a known model."""
    details = model_details(name)
    arch = details["family"]
    return {
        "modelfile": f"FROM {name}\n",
        "parameters": "",
        "template": "{{ .Prompt }}",
        "details": details,
        "model_info": {"general.architecture": arch, f"{arch}.context_length": 40960},
        "capabilities": capabilities,
        "modified_at": "2026-11-01T10:00:00.000000000Z",
    }


def pull_progress(name: str) -> Iterator[dict[str, Any]]:
    """The NDJSON status lines of a successful `/api/pull`."""
    digest = "sha256:" + digest_of(name)
    total = 2_142_590_208
    yield {"status": "pulling manifest"}
    for completed in (0, total // 2, total):
        yield {
            "status": f"pulling {digest[7:19]}",
            "digest": digest,
            "total": total,
            "completed": completed,
        }
    yield {"status": "verifying sha256 digest"}
    yield {"status": "writing manifest"}
    yield {"status": "success"}
