"""The worker's wire format: JSON request lines in; multiplexed frames, response lines out."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.sandbox.errors import SkillError, WorkerError

RESPONSE_LIMIT_BYTES = 1_000_000
STDERR_LIMIT_BYTES = 8_000
HEADER_BYTES = 8
STDOUT, STDERR = 1, 2


def encode_request(request_id: str, skill: str, args: Mapping[str, Any]) -> bytes:
    """One request line for the worker."""
    line = json.dumps({"id": request_id, "skill": skill, "args": dict(args)}, ensure_ascii=False)
    return line.encode() + b"\n"


def parse_response(line: bytes, request_id: str) -> str:
    """A response line's result as text; SkillError if the skill raised, WorkerError if garbled."""
    try:
        response = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WorkerError("the worker answered something that is not JSON") from None
    if not isinstance(response, dict) or response.get("id") != request_id:
        raise WorkerError("the worker answered a different request")
    if response.get("ok") is True and "result" in response:
        result = response["result"]
        return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
    if response.get("ok") is False and isinstance(response.get("error"), str):
        raise SkillError(response["error"])
    raise WorkerError("the worker's answer has neither a result nor an error")


class FrameDecoder:
    """Splits Docker's attach stream into frames (8-byte header: stream, 0, 0, 0, size)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        self._buffer += data
        while len(self._buffer) >= HEADER_BYTES:
            size = int.from_bytes(self._buffer[4:HEADER_BYTES], "big")
            if len(self._buffer) < HEADER_BYTES + size:
                return
            stream = self._buffer[0]
            payload = bytes(self._buffer[HEADER_BYTES : HEADER_BYTES + size])
            del self._buffer[: HEADER_BYTES + size]
            yield stream, payload


@dataclass
class OutputCollector:
    """Gathers a worker's output: complete stdout lines, and stderr up to a cap."""

    line_limit_bytes: int = RESPONSE_LIMIT_BYTES
    stderr_limit_bytes: int = STDERR_LIMIT_BYTES
    stderr: bytearray = field(default_factory=bytearray)
    stderr_dropped: int = 0
    _pending: bytearray = field(default_factory=bytearray)

    def feed(self, stream: int, payload: bytes) -> None:
        """Take one frame; raises WorkerError once a stdout line outgrows the cap."""
        if stream == STDERR:
            room = max(0, self.stderr_limit_bytes - len(self.stderr))
            self.stderr += payload[:room]
            self.stderr_dropped += max(0, len(payload) - room)
            return
        self._pending += payload
        unfinished = self._pending.rsplit(b"\n", 1)[-1]
        if len(unfinished) > self.line_limit_bytes:
            raise WorkerError(f"the worker's answer is larger than {self.line_limit_bytes} bytes")

    def next_line(self) -> bytes | None:
        """The next complete stdout line, without its newline, or None."""
        end = self._pending.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._pending[:end])
        del self._pending[: end + 1]
        return line

    def take_stderr(self) -> str:
        """What the worker wrote to stderr since the last take, noting how much was dropped."""
        text = self.stderr.decode("utf-8", errors="replace")
        if self.stderr_dropped:
            text += f"\n[{self.stderr_dropped} more bytes of stderr dropped]"
        self.stderr.clear()
        self.stderr_dropped = 0
        return text
