"""The wire format between Hearth and a worker, without a container."""

from __future__ import annotations

import base64
import json

import pytest

from assistant.sandbox.errors import SkillError, WorkerError
from assistant.sandbox.protocol import (
    FrameDecoder,
    OutputCollector,
    SkillOutput,
    encode_request,
    parse_response,
)
from assistant.types import Attachment


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def test_a_request_is_one_json_line() -> None:
    line = encode_request("r1", "notes", {"action": "list", "text": "ünï\n"}, "m7:0")
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert json.loads(line) == {
        "id": "r1",
        "skill": "notes",
        "args": {"action": "list", "text": "ünï\n"},
        "key": "m7:0",
    }


@pytest.mark.parametrize(
    ("line", "result"),
    [
        (b'{"id": "r1", "ok": true, "result": "hi"}', "hi"),
        (b'{"id": "r1", "ok": true, "result": {"n": 1}}', '{"n": 1}'),
        (b'{"id": "r1", "ok": true, "result": null}', "null"),
    ],
)
def test_results_become_text(line: bytes, result: str) -> None:
    assert parse_response(line, "r1") == result


def test_a_skill_error_is_the_skills_failure() -> None:
    with pytest.raises(SkillError, match="ValueError: no"):
        parse_response(b'{"id": "r1", "ok": false, "error": "ValueError: no"}', "r1")


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"id": "other", "ok": true, "result": "x"}',
        b'{"id": "r1", "ok": true}',
        b'{"id": "r1", "ok": false, "error": 3}',
        b'{"id": "r1", "ok": "yes", "result": "x"}',
    ],
)
def test_garbled_answers_are_the_workers_fault(line: bytes) -> None:
    with pytest.raises(WorkerError):
        parse_response(line, "r1")


@pytest.mark.parametrize("chunk_bytes", [1, 3, 8, 9, 1000])
def test_frames_survive_any_chunking(chunk_bytes: int) -> None:
    data = frame(1, b"hello\n") + frame(2, b"oops") + frame(1, b"") + frame(1, b"x" * 300)
    decoder = FrameDecoder()
    frames = [
        f
        for start in range(0, len(data), chunk_bytes)
        for f in decoder.feed(data[start : start + chunk_bytes])
    ]
    assert frames == [(1, b"hello\n"), (2, b"oops"), (1, b""), (1, b"x" * 300)]


def test_lines_are_assembled_across_frames() -> None:
    output = OutputCollector()
    output.feed(1, b'{"a"')
    assert output.next_line() is None
    output.feed(1, b": 1}\nnext")
    assert output.next_line() == b'{"a": 1}'
    assert output.next_line() is None
    output.feed(1, b"\n")
    assert output.next_line() == b"next"


def test_an_endless_line_is_refused_once_past_the_cap() -> None:
    output = OutputCollector(line_limit_bytes=10)
    output.feed(1, b"0123456789")
    with pytest.raises(WorkerError, match="larger than 10 bytes"):
        output.feed(1, b"a")


def test_stderr_is_kept_up_to_its_cap_and_the_rest_counted() -> None:
    output = OutputCollector(stderr_limit_bytes=5)
    output.feed(2, b"abc")
    output.feed(2, b"defgh")
    assert output.take_stderr() == "abcde\n[3 more bytes of stderr dropped]"
    assert output.take_stderr() == ""


def files_line(files: object) -> bytes:
    return json.dumps({"id": "r1", "ok": True, "result": "made", "files": files}).encode()


def test_files_come_back_decoded_with_safe_names() -> None:
    data = base64.b64encode(b"\x89PNG...").decode()
    output = parse_response(files_line([{"name": "../../etc/chart.png", "data": data}]), "r1")
    assert output == "made"
    assert isinstance(output, SkillOutput)
    assert output.files == (Attachment("chart.png", b"\x89PNG..."),)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([{"name": f"{i}.txt", "data": ""} for i in range(6)], "at most 5"),
        ([{"name": "big", "data": base64.b64encode(b"x" * (16 * 1024 * 1024 + 1)).decode()}], "16 MB"),
        ([{"name": "bad", "data": "not base64!"}], "garbled"),
        ("not a list", "at most 5"),
    ],
)
def test_files_over_the_caps_fail_the_call_whatever_the_runtime_let_through(
    files: object, message: str
) -> None:
    with pytest.raises(SkillError, match=message):
        parse_response(files_line(files), "r1")
