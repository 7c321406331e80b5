"""The worker's wire format: JSON request lines in; multiplexed frames, response lines out."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.sandbox.errors import SkillError, WorkerError
from assistant.types import Attachment

RESPONSE_LIMIT_BYTES = 1_000_000
MAX_FILES = 5
MAX_FILES_BYTES = 16 * 1024 * 1024
# A response line may also carry the outbox's files, base64-encoded (4 characters per 3 bytes).
LINE_LIMIT_BYTES = RESPONSE_LIMIT_BYTES + MAX_FILES_BYTES * 4 // 3 + 4096
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
STDERR_LIMIT_BYTES = 8_000
HEADER_BYTES = 8
STDOUT, STDERR = 1, 2


def encode_request(request_id: str, skill: str, args: Mapping[str, Any], call_key: str = "") -> bytes:
    """One request line for the worker; `key` names the tool call, for skills that create things."""
    body = {"id": request_id, "skill": skill, "args": dict(args), "key": call_key}
    line = json.dumps(body, ensure_ascii=False)
    return line.encode() + b"\n"


class SkillOutput(str):
    """A skill's result text, with the files it left in its outbox (a str, so text callers need
    nothing new)."""

    files: tuple[Attachment, ...] = ()

    @classmethod
    def of(cls, text: str, files: tuple[Attachment, ...] = ()) -> SkillOutput:
        output = cls(text)
        output.files = files
        return output


def safe_file_name(name: object, index: int) -> str:
    """The last path part of `name`, in safe characters; a made-up name when nothing is left."""
    text = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", text).strip(" .")[:100]
    return cleaned or f"file-{index + 1}"


def parse_files(raw: object) -> tuple[Attachment, ...]:
    """The outbox files of a response, checked again here: the runtime shares its process with
    the skill, so its own caps are not to be relied on. Raises SkillError."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_FILES:
        raise SkillError(f"a skill may send back at most {MAX_FILES} files")
    files, total = [], 0
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("data"), str):
            raise SkillError("the skill's files are garbled")
        try:
            data = base64.b64decode(item["data"], validate=True)
        except (binascii.Error, ValueError):
            raise SkillError("the skill's files are garbled") from None
        total += len(data)
        if total > MAX_FILES_BYTES:
            raise SkillError(f"the skill's files come to more than {MAX_FILES_BYTES // 2**20} MB")
        files.append(Attachment(safe_file_name(item.get("name", ""), index), data))
    return tuple(files)


def parse_response(line: bytes, request_id: str) -> SkillOutput:
    """A response line's result as text with its files; SkillError if the skill raised (or sent
    files over the caps), WorkerError if garbled."""
    try:
        response = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WorkerError("the worker answered something that is not JSON") from None
    if not isinstance(response, dict) or response.get("id") != request_id:
        raise WorkerError("the worker answered a different request")
    if response.get("ok") is True and "result" in response:
        result = response["result"]
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        if len(text) > RESPONSE_LIMIT_BYTES:
            raise WorkerError(f"the worker's answer is larger than {RESPONSE_LIMIT_BYTES} bytes")
        return SkillOutput.of(text, parse_files(response.get("files")))
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

    line_limit_bytes: int = LINE_LIMIT_BYTES
    stderr_limit_bytes: int = STDERR_LIMIT_BYTES
    stderr: bytearray = field(default_factory=bytearray)
    stderr_dropped: int = 0
    _pending: bytearray = field(default_factory=bytearray)
    # Bytes at the start of `_pending` known to hold no newline: lines of many megabytes (a
    # skill's files) are scanned once, not again with every frame.
    _scanned: int = 0
    _unfinished: int = 0  # length of the last, not yet ended line

    def feed(self, stream: int, payload: bytes) -> None:
        """Take one frame; raises WorkerError once a stdout line outgrows the cap."""
        if stream == STDERR:
            room = max(0, self.stderr_limit_bytes - len(self.stderr))
            self.stderr += payload[:room]
            self.stderr_dropped += max(0, len(payload) - room)
            return
        self._pending += payload
        last = payload.rfind(b"\n")
        self._unfinished = len(payload) - last - 1 if last >= 0 else self._unfinished + len(payload)
        if self._unfinished > self.line_limit_bytes:
            raise WorkerError(f"the worker's answer is larger than {self.line_limit_bytes} bytes")

    def next_line(self) -> bytes | None:
        """The next complete stdout line, without its newline, or None."""
        end = self._pending.find(b"\n", self._scanned)
        if end < 0:
            self._scanned = len(self._pending)
            return None
        line = bytes(self._pending[:end])
        del self._pending[: end + 1]
        self._scanned = 0
        return line

    def take_stderr(self) -> str:
        """What the worker wrote to stderr since the last take, noting how much was dropped."""
        text = self.stderr.decode("utf-8", errors="replace")
        if self.stderr_dropped:
            text += f"\n[{self.stderr_dropped} more bytes of stderr dropped]"
        self.stderr.clear()
        self.stderr_dropped = 0
        return text
